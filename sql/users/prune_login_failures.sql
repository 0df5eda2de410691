-- Forget emails whose last failed login is older than the window (they no longer count).
DELETE FROM login_failures
 WHERE last_failure_at <= now() - make_interval(secs => :'window_seconds'::int);
