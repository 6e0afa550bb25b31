// Storyboards: a sprite of frames and a WebVTT whose cues point at
// regions of it ("storyboard.jpg#xywh=x,y,w,h"). They are fetched once
// per video, on the first hover that needs one.

const cache = new Map(); // vtt URL -> Promise<Frame[]>

// load returns the storyboard's frames, in time order:
// {start, end, url, x, y, w, h}, with url absolute.
export function load(vttURL) {
  if (!cache.has(vttURL)) {
    const p = fetch(vttURL)
      .then((resp) => {
        if (!resp.ok) throw new Error(`storyboard: HTTP ${resp.status}`);
        return resp.text();
      })
      .then((text) => parse(text, new URL(vttURL, location.href)));
    // A failure is not cached: a later hover may try again.
    p.catch(() => cache.delete(vttURL));
    cache.set(vttURL, p);
  }
  return cache.get(vttURL);
}

function seconds(stamp) {
  const parts = stamp.trim().split(":").map(Number);
  return parts.reduce((acc, n) => acc * 60 + n, 0);
}

export function parse(text, base) {
  const frames = [];
  const blocks = text.replace(/\r\n?/g, "\n").split(/\n{2,}/);
  for (const block of blocks) {
    const lines = block.split("\n").filter((l) => l.trim() !== "");
    const timing = lines.findIndex((l) => l.includes("-->"));
    if (timing < 0 || timing + 1 >= lines.length) continue;
    const [from, to] = lines[timing].split("-->");
    const target = lines[timing + 1].trim();
    const hash = target.indexOf("#xywh=");
    if (hash < 0) continue;
    const [x, y, w, hgt] = target.slice(hash + 6).split(",").map(Number);
    frames.push({
      start: seconds(from),
      end: seconds(to.trim().split(/\s+/)[0]),
      url: new URL(target.slice(0, hash), base).href,
      x, y, w, h: hgt,
    });
  }
  return frames;
}

// at returns the frame shown at time t.
export function at(frames, t) {
  if (!frames.length) return null;
  let lo = 0;
  let hi = frames.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (frames[mid].start <= t) lo = mid;
    else hi = mid - 1;
  }
  return frames[lo];
}

// paint shows frame f in el, as large as fits in maxW x maxH, and sizes
// el to it.
export function paint(el, f, maxW, maxH) {
  const scale = Math.min(maxW / f.w, (maxH || Infinity) / f.h);
  el.style.width = `${f.w * scale}px`;
  el.style.height = `${f.h * scale}px`;
  el.style.backgroundImage = `url("${f.url}")`;
  el.style.backgroundPosition = `${-f.x * scale}px ${-f.y * scale}px`;
  // Scaling the region needs the whole sprite's size, known once it loads.
  sprite(f.url).then((img) => {
    el.style.backgroundSize = `${img.naturalWidth * scale}px ${img.naturalHeight * scale}px`;
  }, () => {});
}

const sprites = new Map();

function sprite(url) {
  if (!sprites.has(url)) {
    sprites.set(url, new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = reject;
      img.src = url;
    }));
  }
  return sprites.get(url);
}
