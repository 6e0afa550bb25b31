// Applies the theme a person chose before the page is drawn, so that a
// dark page never flashes white. Without a choice the system's
// prefers-color-scheme decides (app.css: color-scheme and light-dark()).
(function () {
  try {
    var theme = localStorage.getItem("cloudflix.theme");
    if (theme === "dark" || theme === "light") {
      document.documentElement.dataset.theme = theme;
    }
  } catch (e) {
    // Storage may be disabled; the system theme applies.
  }
})();
