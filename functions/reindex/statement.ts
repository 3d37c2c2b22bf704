import { loadSql } from '../shared/sql';

/**
 * Utility statements (REINDEX, DROP INDEX, VACUUM) take no bind parameters, so the identifier goes
 * into the text. It must come already quoted from the catalog (`format('%I.%I', ...)`); this
 * re-checks its shape so text from anywhere else can never reach the server.
 */
const QUOTED_PART = '(?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)';
const QUOTED_NAME = new RegExp(`^${QUOTED_PART}(?:\\.${QUOTED_PART})?$`);

export function isQuotedIdentifier(text: string): boolean {
  return QUOTED_NAME.test(text);
}

/** loadSql('reindex/<name>') with its single `{{placeholder}}` replaced by a quoted identifier. */
export function statementFor(name: string, placeholder: string, quotedIdentifier: string): string {
  if (!isQuotedIdentifier(quotedIdentifier)) {
    throw new Error(`refusing to use ${JSON.stringify(quotedIdentifier)} as an identifier: not quoted`);
  }
  return loadSql(`reindex/${name}`).replaceAll(`{{${placeholder}}}`, quotedIdentifier);
}
