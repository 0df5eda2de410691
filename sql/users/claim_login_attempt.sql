-- Count a login attempt for this email before its password is checked, unless the email
-- must wait. After `free_failures` attempts that did not end in a correct password, each
-- further one waits 2^(failures - free_failures) seconds after the last (1, 2, 4, ...),
-- at most `max_delay_seconds`; failures are forgotten `window_seconds` after the last one.
--
-- One statement, so concurrent attempts cannot race past the count: ON CONFLICT locks the
-- email's row, and each attempt sees the count the one before it left. Counting *before*
-- bcrypt means a burst of 40 wrong passwords at once gets `free_failures` checks, not 40.
-- A waiting attempt changes nothing (an attacker cannot push the wait further by
-- hammering) and returns no row: sql/users/login_wait.sql then says how long to wait.
-- A correct password deletes the row (sql/users/forget_login_failures.sql).
INSERT INTO login_failures AS f (email, failures, last_failure_at)
VALUES (lower(:'email'), 1, now())
ON CONFLICT (email) DO UPDATE
   SET failures = CASE
           WHEN f.last_failure_at <= now() - make_interval(secs => :'window_seconds'::int) THEN 1
           ELSE f.failures + 1
       END,
       last_failure_at = now()
 WHERE f.failures < :'free_failures'::int
    OR f.last_failure_at <= now() - make_interval(secs => :'window_seconds'::int)
    OR f.last_failure_at + make_interval(
           secs => least(:'max_delay_seconds'::int, power(2, least(f.failures - :'free_failures'::int, 30)))
       ) <= now()
RETURNING failures;
