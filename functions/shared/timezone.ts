/**
 * Which time zone names the config accepts. Intl (and so EventBridge's own parser, and croner)
 * accepts abbreviations that mean something else than people think: "BST" is read as Asia/Dhaka
 * (Bangladesh), "EST" as a fixed UTC-5 without daylight saving time. Only Area/Location names
 * (and "UTC") say one place unambiguously.
 *
 * Intl.supportedValuesOf('timeZone') cannot tell canonical names from links: it lists CLDR's
 * spellings (Asia/Calcutta, not the IANA name Asia/Kolkata; no "UTC"), and it changes with the
 * Node version. So links are refused only where they are recognisably legacy: the
 * country-prefixed families (US/Eastern, Canada/Pacific, ...) and single-word names.
 */

/** What people usually mean by an abbreviation (most common first). */
const ABBREVIATIONS: Readonly<Record<string, readonly string[]>> = {
  GMT: ['Europe/London', 'UTC'],
  BST: ['Europe/London'],
  IST: ['Asia/Kolkata', 'Europe/Dublin', 'Asia/Jerusalem'],
  WET: ['Europe/Lisbon'],
  WEST: ['Europe/Lisbon'],
  CET: ['Europe/Paris', 'Europe/Berlin', 'Europe/Madrid'],
  CEST: ['Europe/Paris', 'Europe/Berlin', 'Europe/Madrid'],
  MET: ['Europe/Paris', 'Europe/Berlin'],
  EET: ['Europe/Athens', 'Europe/Helsinki', 'Europe/Bucharest'],
  EEST: ['Europe/Athens', 'Europe/Helsinki', 'Europe/Bucharest'],
  MSK: ['Europe/Moscow'],
  EST: ['America/New_York', 'America/Toronto'],
  EDT: ['America/New_York', 'America/Toronto'],
  CST: ['America/Chicago', 'America/Mexico_City', 'Asia/Shanghai'],
  CDT: ['America/Chicago'],
  MST: ['America/Denver', 'America/Phoenix'],
  MDT: ['America/Denver'],
  PST: ['America/Los_Angeles', 'America/Vancouver'],
  PDT: ['America/Los_Angeles', 'America/Vancouver'],
  AKST: ['America/Anchorage'],
  HST: ['Pacific/Honolulu'],
  AST: ['America/Halifax', 'America/Puerto_Rico'],
  NST: ['America/St_Johns'],
  BRT: ['America/Sao_Paulo'],
  ART: ['America/Argentina/Buenos_Aires'],
  JST: ['Asia/Tokyo'],
  KST: ['Asia/Seoul'],
  HKT: ['Asia/Hong_Kong'],
  SGT: ['Asia/Singapore'],
  PHT: ['Asia/Manila'],
  WIB: ['Asia/Jakarta'],
  PKT: ['Asia/Karachi'],
  GST: ['Asia/Dubai'],
  SAST: ['Africa/Johannesburg'],
  WAT: ['Africa/Lagos'],
  EAT: ['Africa/Nairobi'],
  AEST: ['Australia/Sydney', 'Australia/Melbourne', 'Australia/Brisbane'],
  AEDT: ['Australia/Sydney', 'Australia/Melbourne'],
  ACST: ['Australia/Adelaide', 'Australia/Darwin'],
  AWST: ['Australia/Perth'],
  NZST: ['Pacific/Auckland'],
  NZDT: ['Pacific/Auckland'],
};

/** Other spellings of UTC. */
const UTC_ALIASES = new Set(['Z', 'ZULU', 'UCT', 'UNIVERSAL', 'GMT0', 'GMT+0', 'GMT-0', 'GREENWICH']);

/** tzdata's "backward" families: every name under these prefixes is a link to an Area/Location. */
const LEGACY_PREFIXES = ['US/', 'Canada/', 'Mexico/', 'Brazil/', 'Chile/', 'SystemV/'];

const OFFSET = /^(?:UTC|GMT|Etc\/GMT|Etc\/UTC)?\s*[+-]\s*\d{1,2}(?::?\d{2})?$/i;

/** Undefined when `name` is accepted; otherwise what is wrong and which names to use instead. */
export function timezoneProblem(name: string): string | undefined {
  const resolved = resolveZone(name);
  if (name === 'UTC' || name === 'Etc/UTC') return undefined;
  const upper = name.trim().toUpperCase();
  if (UTC_ALIASES.has(upper) || upper === 'UTC') return `"${name}": write "UTC"`;
  const meant = ABBREVIATIONS[upper.replace(/\s+/g, '')];
  if (meant) {
    const readAs = resolved && resolved !== name ? ` (it would be read as ${resolved})` : '';
    return `"${name}" is an abbreviation, not a time zone${readAs}: use a zone name such as ${meant.map((z) => `"${z}"`).join(' or ')}, which also follows daylight saving time`;
  }
  if (OFFSET.test(name.trim()))
    return `"${name}" is a fixed offset: it ignores daylight saving time and POSIX reverses its sign (Etc/GMT+6 is UTC-6); use the place's zone name, e.g. "Asia/Dhaka" or "America/Chicago"`;
  if (!resolved) return `"${name}" is not a time zone: expected an IANA name like "Europe/London" or "UTC"`;
  if (LEGACY_PREFIXES.some((prefix) => name.startsWith(prefix)) || !name.includes('/'))
    return `"${name}" is a legacy alias${resolved !== name ? `: use "${resolved}"` : ': use an Area/Location name like "Europe/London"'}`;
  if (name.startsWith('Etc/'))
    return `"${name}" is a fixed offset: use "UTC", or the place's zone name like "Europe/London"`;
  if (resolved.toLowerCase() === name.toLowerCase() && resolved !== name)
    return `"${name}": write "${resolved}"`;
  return undefined;
}

function resolveZone(name: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}
