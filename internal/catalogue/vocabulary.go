package catalogue

import (
	"strings"
	"sync"
)

// VocabularySize is how many distinct words the catalogue's text is drawn
// from: the common words of video titles first, then made-up words that
// read like names of places, people and things, rarer the further down.
const VocabularySize = 30_000

// Word is the word of rank r in the vocabulary, 0 the most common; a
// benchmark picks its queries with it.
func Word(r int) string { return vocabulary()[r] }

// common are the most frequent words, most frequent first.
const common = `the and video how with for new best live day life music travel
guide tour home food easy make time world first top full review game city
night love family water summer winter morning art road trip walk from
mountain river lake sea beach forest garden kitchen recipe cooking pasta
bread coffee tea street market train car bike drive flight island village
old part final official trailer episode season song dance cover lesson
tutorial beginner learn basics tips tricks quick simple great little big
small short long story history science space earth moon sun star light
dark rain snow storm wind fire ice stone sand desert valley hills bridge
tower castle church park zoo farm animals dog cat bird horse fish whale
wild nature sunrise sunset timelapse drone aerial view camera photo film
movie documentary interview talk news report update vlog diary week month
year weekend holiday festival party wedding birthday christmas school
college class study exam math physics chemistry biology history painting
drawing sketch guitar piano drums violin singing choir band concert jazz
rock blues classical folk pop electronic beat remix acoustic session
football soccer tennis basketball running yoga fitness workout training
match goal highlights race marathon climbing hiking camping fishing sailing
surfing skiing skating swimming diving kids baby children toys puzzle
chess cards board building house room design craft wood metal paint repair
fix clean garden plants flowers trees autumn spring colours blue red green
yellow black white golden silver quiet calm relaxing sleep sounds ambient
piano rain birds ocean waves fireplace cafe library office work job money
business startup market stocks crypto phone computer code programming
software linux web app robot machine engine rocket plane ship boat harbour
lights northern aurora volcano glacier canyon waterfall cave jungle safari
lion tiger bear wolf fox deer eagle owl butterfly bee spider shark dolphin
turtle penguin`

// syllables make the rarer words: two or three of them, in every
// combination, in a fixed order.
var syllables = strings.Fields(`ka lo mi ra ven dor tal bri sel mon ar el is
quin tor ba ru fen gal po ny zel dra kor lin ma thi sol vek wen yor zu`)

var vocabulary = sync.OnceValue(func() []string {
	words := make([]string, 0, VocabularySize)
	seen := make(map[string]bool, VocabularySize)
	add := func(w string) {
		if !seen[w] && len(words) < VocabularySize {
			seen[w] = true
			words = append(words, w)
		}
	}
	for _, w := range strings.Fields(common) {
		add(w)
	}
	n := len(syllables)
	for i := 0; len(words) < VocabularySize; i++ {
		// i in base n, two digits then three: every pair, then every
		// triple, each a distinct word.
		var b strings.Builder
		if i < n*n {
			b.WriteString(syllables[i/n])
			b.WriteString(syllables[i%n])
		} else {
			j := i - n*n
			b.WriteString(syllables[j/(n*n)%n])
			b.WriteString(syllables[j/n%n])
			b.WriteString(syllables[j%n])
		}
		add(b.String())
	}
	return words
})
