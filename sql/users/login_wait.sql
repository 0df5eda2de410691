-- Whole seconds this email must still wait before its next login attempt (at least 1),
-- or no row when it need not wait (any more): see sql/users/claim_login_attempt.sql.
SELECT ceil(extract(epoch FROM wait_until - now()))::int AS retry_after
FROM (
    SELECT f.last_failure_at + make_interval(
               secs => least(:'max_delay_seconds'::int, power(2, least(f.failures - :'free_failures'::int, 30)))
           ) AS wait_until
    FROM login_failures f
    WHERE f.email = lower(:'email')
      AND f.failures >= :'free_failures'::int
      AND f.last_failure_at > now() - make_interval(secs => :'window_seconds'::int)
) AS w
WHERE wait_until > now();
