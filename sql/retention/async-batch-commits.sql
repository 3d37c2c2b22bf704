-- async-batch-commits: a row rule's batches commit without waiting for their WAL flush (synchronous_commit off for
-- the session, until RESET), unless the server waits for synchronous standbys: there each batch's wait for them is
-- what keeps them from falling behind the deletes, and is kept. Any role; PostgreSQL 10+.
select set_config('synchronous_commit', 'off', false)
where current_setting('synchronous_standby_names') = ''
