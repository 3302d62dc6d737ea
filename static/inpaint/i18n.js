// The scripts' strings in the reader's language: Django's JavaScript catalogue (window.gettext, loaded by
// _base.html before any module) when the page has one; the English string itself without it (the unit tests
// under node --test, a page whose catalogue failed to load). makemessages finds the calls by these names.

const catalogue = () => (typeof globalThis.gettext === "function" ? globalThis : null);

export function gettext(text) {
  return catalogue()?.gettext(text) ?? text;
}

export function ngettext(singular, plural, count) {
  return catalogue()?.ngettext(singular, plural, count) ?? (count === 1 ? singular : plural);
}

/** ``text`` with each %(name)s replaced by values[name], as Django's interpolate(text, values, true). */
export function interpolate(text, values) {
  return text.replace(/%\((\w+)\)s/g, (placeholder, name) => String(values[name]));
}
