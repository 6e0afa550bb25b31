// The menu button that the player's speed and quality menus are made of.

import { h } from "../dom.js";

// menuButton is a button that opens a menu of radio items (WAI-ARIA menu
// button): arrows move, Enter or Space picks, Escape closes.
export function menuButton(label, buttonIcon, items, selected, onPick, signal) {
  const button = h("button", {
    type: "button", class: "icon-button", "aria-haspopup": "menu", "aria-expanded": "false",
    "aria-label": label,
  }, buttonIcon);
  const list = h("ul", { class: "menu", role: "menu", "aria-label": label, hidden: true });
  const wrap = h("div", { class: "menu-wrap" }, button, list);
  let note = "";
  let current = selected;

  const entries = () => [...list.querySelectorAll("[role=menuitemradio]")];
  const close = (focusButton) => {
    list.hidden = true;
    button.setAttribute("aria-expanded", "false");
    if (focusButton) button.focus();
  };
  const open = () => {
    list.hidden = false;
    button.setAttribute("aria-expanded", "true");
    (entries().find((e) => e.getAttribute("aria-checked") === "true") || entries()[0])?.focus();
  };
  const syncLabel = () => {
    const chosen = entries().find((e) => e.getAttribute("aria-checked") === "true");
    button.setAttribute("aria-label", `${label}: ${note || chosen?.textContent || ""}`);
    button.title = button.getAttribute("aria-label");
  };
  const setItems = (newItems, sel) => {
    current = sel;
    list.replaceChildren(h("li", { class: "menu-label", role: "presentation" }, label),
      ...newItems.map((it) => {
        const li = h("li", {
          role: "menuitemradio", tabindex: "-1", "aria-checked": String(it.value === sel),
          dataset: { value: String(it.value) },
        }, it.label);
        li.addEventListener("click", () => pick(it.value));
        return li;
      }));
    syncLabel();
  };
  const pick = (value) => {
    current = value;
    for (const e of entries()) e.setAttribute("aria-checked", String(e.dataset.value === String(value)));
    note = "";
    syncLabel();
    close(true);
    onPick(value);
  };
  button.addEventListener("click", () => (list.hidden ? open() : close(false)));
  list.addEventListener("keydown", (e) => {
    const all = entries();
    const i = all.indexOf(document.activeElement);
    switch (e.key) {
      case "ArrowDown": all[(i + 1) % all.length].focus(); break;
      case "ArrowUp": all[(i - 1 + all.length) % all.length].focus(); break;
      case "Home": all[0].focus(); break;
      case "End": all[all.length - 1].focus(); break;
      case "Escape": close(true); break;
      case "Tab": close(false); return;
      case "Enter":
      case " ":
        if (i >= 0) pick(Number(all[i].dataset.value));
        break;
      default: return;
    }
    e.preventDefault();
    e.stopPropagation();
  });
  document.addEventListener("pointerdown", (e) => {
    if (!list.hidden && !wrap.contains(e.target)) close(false);
  }, { signal });
  setItems(items, selected);
  return {
    el: wrap,
    setItems,
    // setNote says what "Auto" chose, while Auto is the choice.
    setNote(text) {
      note = current === -1 ? text : "";
      syncLabel();
    },
  };
}
