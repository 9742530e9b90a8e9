// Polish and English: the dictionaries in /assets/i18n/<lang>.json, chosen by the visitor
// (remembered in localStorage) or by the browser's language.

let dictionary = {};
let current = 'en';

/** The language in use. */
export function language() {
  return current;
}

/** Loads `lang` (or the remembered or browser's language) and returns it. */
export async function loadLanguage(lang) {
  const wanted = lang || localStorage.getItem('centrala.lang') ||
    (navigator.language || 'en').slice(0, 2);
  current = wanted === 'pl' ? 'pl' : 'en';
  localStorage.setItem('centrala.lang', current);
  const response = await fetch(`/assets/i18n/${current}.json`);
  dictionary = await response.json();
  document.documentElement.lang = current;
  return current;
}

/** The text of `key`, with `{name}` placeholders filled from `vars`. */
export function t(key, vars) {
  const text = dictionary[key] || key;
  return vars ? text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? vars[name] : `{${name}}`)) : text;
}
