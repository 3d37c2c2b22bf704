/**
 * The PostgreSQL server majors pgmaint supports and the tests cover. The client the Lambda image
 * ships must be at least the newest of them (pg_dump refuses a server newer than itself); the
 * infra drift test and the server matrix read this list.
 */
export const SUPPORTED_SERVER_MAJORS = [13, 14, 15, 16, 17, 18] as const;

export type ServerMajor = (typeof SUPPORTED_SERVER_MAJORS)[number];

export const NEWEST_SERVER_MAJOR: ServerMajor = Math.max(...SUPPORTED_SERVER_MAJORS) as ServerMajor;
