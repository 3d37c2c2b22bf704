import * as z from 'zod';

/**
 * The Lambda event (minus `target`) and the CLI flags. Only `target` is required: the default is
 * the safe one, the latest verified backup into a new database.
 */
export const restoreOptions = z
  .strictObject({
    /** Restore this target's backup (refresh staging from prod); default: the target's own. */
    from: z.string({ error: 'expected the name of a target in the config' }).min(1).optional(),
    backup: z.string({ error: 'expected "latest" or a backup key' }).min(1).default('latest'),
    /**
     * A target with `databases`: the database whose backups to restore (and, when this target has
     * `databases`, the live database a replace swaps).
     */
    database: z.string({ error: 'expected a database name' }).min(1).optional(),
    /** Read the backup from its verified copy in this region (backup.copies), e.g. when the primary is gone. */
    copy: z.string({ error: 'expected the region of a backup copy, like "eu-west-1"' }).min(1).optional(),
    into: z
      .string({ error: 'expected a database name' })
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, {
        error: 'expected a database name of letters, digits and _ (at most 63), not starting with a digit',
      })
      .optional(),
    replace: z.boolean({ error: 'expected true or false' }).default(false),
    confirm: z.string({ error: "expected the live database's name" }).optional(),
    /**
     * A new-database restore with the backup's owners, grants and database ACL, as a replace
     * always does (default: pgmaint's role owns the copy and nobody else is granted anything).
     */
    keepOwners: z.boolean({ error: 'expected true or false' }).default(false),
    /** A restore drill: latest backup into a scratch database, counts compared, dropped. */
    drill: z.boolean({ error: 'expected true or false' }).default(false),
  })
  .superRefine((options, ctx) => {
    if (options.drill && (options.replace || options.into || options.confirm || options.keepOwners)) {
      ctx.addIssue({
        code: 'custom',
        path: ['drill'],
        message:
          'a drill restores into its own scratch database; leave out replace, into, confirm and keep-owners',
      });
    }
    if (options.replace && options.into) {
      ctx.addIssue({
        code: 'custom',
        path: ['into'],
        message: 'replace swaps the restored copy in under the live name; leave out into',
      });
    }
  });

export type RestoreOptions = z.output<typeof restoreOptions>;
