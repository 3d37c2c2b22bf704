/**
 * Every password pgmaint learns is registered here so that nothing it prints, logs, alerts or
 * returns can carry it, whatever path the text took (pg errors, pg_dump's stderr, ...).
 */
const known = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 3) known.add(value);
}

const URL_PASSWORD = /(postgres(?:ql)?:\/\/[^:/@\s]+:)[^@\s]+@/gi;
const PASSWORD_ASSIGNMENT = /(password\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi;

export function scrub(text: string): string {
  let out = text.replace(URL_PASSWORD, '$1***@').replace(PASSWORD_ASSIGNMENT, '$1***');
  for (const secret of known) out = out.split(secret).join('***');
  return out;
}
