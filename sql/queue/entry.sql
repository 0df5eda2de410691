-- Callers' newest entries in an event's waiting room, as each caller sees theirs, read
-- without locking anything (the event's row is only read: MVCC, no lock): one caller, or
-- the polls of the event that arrived together (ticketing/queue/service.py,
-- QUEUE_BATCHING). :'user_ids' in arrival order; one row per request (`ord`, 1-based):
--   status: `expired` for an admitted entry whose pass has run out, `sold_out` for a
--     waiting entry while the event has no tickets left (it resumes `waiting`, in the
--     same place, when tickets come back), else as stored;
--   position: while waiting after the sale start, 1 + the waiting entries ahead of it, in
--     constant time: rank - admitted for an entry the admission sweep has ranked; for one
--     joined since its last run, behind every ranked waiting entry and among the unranked
--     ones by place (db/migrations/20261207000801_queue_ranks.sql);
--   pass: only while admitted and unused.
-- Also the event's queue settings (for Retry-After) and the caller's current
-- token_version (the route skipped that lookup). event_found / queued say why there is
-- no entry; entry columns are NULL when the caller has none.
WITH request AS (
    SELECT r.user_id, r.ord
      FROM unnest(:'user_ids'::text[]::uuid[]) WITH ORDINALITY AS r (user_id, ord)
), event AS (
    SELECT id, remaining, sale_starts_at, queue_admit_per_minute, queue_opened_at
      FROM events
     WHERE id = :'event_id'::uuid AND deleted_at IS NULL
), counts AS (
    SELECT coalesce(max(a.ranked), 0) AS ranked, coalesce(max(a.admitted), 0) AS admitted,
           coalesce(max(a.ranked_through), '-infinity') AS ranked_through
      FROM queue_admission a
     WHERE a.event_id = :'event_id'::uuid
), mine AS (
    SELECT request.ord, newest.*
      FROM request
     CROSS JOIN event
     CROSS JOIN LATERAL (
           SELECT q.*
             FROM queue_entries q
            WHERE q.user_id = request.user_id AND q.event_id = event.id
            ORDER BY q.joined_at DESC, q.place DESC
            LIMIT 1
           ) newest
), seen AS (
    SELECT mine.*,
           CASE WHEN mine.status = 'admitted' AND mine.pass_expires_at <= now() THEN 'expired'
                WHEN mine.status = 'waiting' AND event.remaining = 0 THEN 'sold_out'
                ELSE mine.status END AS shown,
           greatest(event.queue_opened_at, coalesce(event.sale_starts_at, '-infinity')) AS opens
      FROM mine, event
)
SELECT request.ord, u.token_version,
       event.id IS NOT NULL AS event_found,
       event.queue_admit_per_minute IS NOT NULL AS queued,
       event.queue_admit_per_minute AS admit_per_minute,
       extract(epoch FROM event.sale_starts_at - now()) AS seconds_to_start,
       seen.event_id, seen.shown AS status, seen.joined_at, seen.admitted_at,
       CASE WHEN seen.shown = 'waiting' AND seen.opens <= now() THEN
           CASE WHEN seen.rank IS NOT NULL THEN seen.rank - counts.admitted
                ELSE counts.ranked - counts.admitted + 1
                     + (SELECT count(*) FROM queue_entries w  -- the few joined since the last sweep
                         WHERE w.event_id = seen.event_id AND w.status = 'waiting' AND w.rank IS NULL
                           AND w.place > counts.ranked_through AND w.place < seen.place)
           END
       END AS position,
       CASE WHEN seen.shown = 'admitted' THEN seen.pass END AS pass,
       seen.pass_expires_at
  FROM request
  LEFT JOIN users u ON u.id = request.user_id
  LEFT JOIN event ON true
  LEFT JOIN seen ON seen.ord = request.ord
  LEFT JOIN counts ON true
 ORDER BY request.ord;
