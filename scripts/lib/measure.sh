# Shared by the measurement scripts (source it; needs bin/cloudflix,
# ffmpeg and curl).

# make_clip FILE writes a 6 s 640x360 clip with sound, once.
make_clip() {
  [ -s "$1" ] || ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=640x360:rate=30:duration=6 \
    -f lavfi -i sine=duration=6 -c:v libx264 -preset ultrafast -c:a aac -shortest "$1"
}

# upload_clips API CONFIG_DIR CLIP TITLE... signs up a user "measure" on the
# platform at API (CLI config kept in CONFIG_DIR), uploads CLIP once per
# title, and waits until every upload has settled.
upload_clips() {
  local api=$1 cfg=$2 clip=$3 ids=()
  shift 3
  curl -fs -o /dev/null -H 'Content-Type: application/json' -H "Origin: $api" \
    -d '{"username":"measure","email":"measure@example.org","password":"measure the platform"}' "$api/api/v1/auth/signup"
  echo "measure the platform" | XDG_CONFIG_HOME="$cfg" bin/cloudflix login --server "$api" --username measure --password-stdin >/dev/null
  for title in "$@"; do
    ids+=("$(XDG_CONFIG_HOME="$cfg" bin/cloudflix upload --quiet --server "$api" --title "$title" "$clip")")
  done
  for id in "${ids[@]}"; do
    until curl -fs "$api/api/v1/videos/$id" | grep -q '"state":"\(ready\|failed\)"'; do sleep 0.5; done
  done
}
