-- The outcomes of claimed attempts, in one statement. Delivered: done. Otherwise the next
-- attempt is :first_retry_seconds after the first failure, doubling, at most an hour
-- apart, until :retry_hours after retry_from (creation, or a manual retry); a failure
-- after that marks the delivery failed. `attempt` guards against a late outcome of an
-- attempt whose lease ran out (the next attempt owns the row). `released` gives back a
-- claim that was not attempted (its endpoint was unreachable earlier in the batch).
-- `data` is the body's data a first attempt sent: kept, so every retry sends the same bytes.
UPDATE webhook_deliveries d
   SET data = coalesce(d.data, r.data),
       attempts = CASE WHEN r.released THEN d.attempts - 1 ELSE d.attempts END,
       last_status = CASE WHEN r.released THEN d.last_status ELSE r.status END,
       last_error = CASE WHEN r.released THEN d.last_error ELSE r.error END,
       delivered_at = CASE WHEN r.delivered THEN now() END,
       failed_at = CASE
           WHEN NOT r.delivered AND NOT r.released
                AND now() >= d.retry_from + make_interval(hours => :'retry_hours'::int) THEN now()
       END,
       next_attempt_at = CASE
           WHEN r.delivered THEN d.next_attempt_at
           WHEN r.released THEN now() + make_interval(secs => :'first_retry_seconds'::float8)
           ELSE least(
               now() + make_interval(secs => least(:'first_retry_seconds'::float8 * power(2, r.attempt - 1), 3600)),
               d.retry_from + make_interval(hours => :'retry_hours'::int)
           )
       END
  FROM unnest(:'ids'::uuid[], :'attempts'::int[], :'statuses'::int[], :'errors'::text[],
              :'delivered'::boolean[], :'released'::boolean[], :'data'::jsonb[])
       AS r(id, attempt, status, error, delivered, released, data)
 WHERE d.id = r.id AND d.attempts = r.attempt;
