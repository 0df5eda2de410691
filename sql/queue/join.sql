-- Callers join an event's waiting room, in ONE statement that never locks or changes the
-- event's row: one caller, or the joins of the event that arrived together (the group
-- commit of joins, ticketing/queue/service.py, QUEUE_BATCHING). Parallel arrays in arrival
-- order, :'user_ids' and :'token_versions' (the tokens' versions: the route skipped that
-- lookup), one request per caller; one row per request (`ord`, 1-based), in order.
-- For each caller: a new entry (created = true), or their live one (waiting, or admitted
-- with a valid pass) again (created = false), never two places. An admitted entry whose
-- pass has expired is marked `expired` first, so the caller joins again, at the back.
-- Where a new entry stands (`place`): before the sale start a random number in [0, 1)
-- (the lottery among early arrivals), after it the next of queue_places (>= 1), in
-- arrival order. The row shows the entry as the caller sees it, like sql/queue/entry.sql
-- (status, position in constant time from the ranks the admission sweep keeps, counting
-- this statement's new entries ahead too: its own inserts are not in its snapshot; pass),
-- plus the queue's admit_per_minute and seconds_to_start for Retry-After, and the
-- caller's current token_version. event_found / queued / open say why nobody joined;
-- entry columns are NULL when there is no entry to show (refused, or the caller's
-- concurrent join elsewhere has not committed yet: try again).
WITH request AS (
    SELECT r.user_id, r.token_version, r.ord
      FROM unnest(:'user_ids'::text[]::uuid[], :'token_versions'::int[])
           WITH ORDINALITY AS r (user_id, token_version, ord)
), event AS (
    SELECT id, remaining, sale_starts_at, queue_admit_per_minute, queue_opened_at,
           queue_admit_per_minute IS NOT NULL AS queued, date > now() AS open
      FROM events
     WHERE id = :'event_id'::uuid AND deleted_at IS NULL
), caller AS (
    SELECT request.ord, request.user_id, u.token_version,
           u.token_version = request.token_version AS valid
      FROM request
      LEFT JOIN users u ON u.id = request.user_id
), counts AS (  -- entries ranked and admitted so far (none before the first join's row exists)
    SELECT coalesce(max(a.ranked), 0) AS ranked, coalesce(max(a.admitted), 0) AS admitted,
           coalesce(max(a.ranked_through), '-infinity') AS ranked_through
      FROM queue_admission a
     WHERE a.event_id = :'event_id'::uuid
), allowed AS (
    SELECT caller.ord, caller.user_id, event.id AS event_id, event.sale_starts_at
      FROM event, caller
     WHERE event.queued AND event.open AND caller.valid
), retired AS (
    UPDATE queue_entries q
       SET status = 'expired'
      FROM allowed
     WHERE q.event_id = allowed.event_id AND q.user_id = allowed.user_id
       AND q.status = 'admitted' AND q.pass_expires_at <= now()
    RETURNING q.id
), bucket AS (
    INSERT INTO queue_admission (event_id)
    SELECT id FROM event WHERE EXISTS (SELECT 1 FROM allowed)
        ON CONFLICT (event_id) DO NOTHING
), joined AS (
    INSERT INTO queue_entries (event_id, user_id, place)
    SELECT arrival.event_id, arrival.user_id,
           CASE WHEN arrival.sale_starts_at > now() THEN random() ELSE nextval('queue_places') END
      FROM (SELECT * FROM allowed ORDER BY allowed.ord) AS arrival  -- places in arrival order
     WHERE (SELECT count(*) FROM retired) >= 0  -- after `retired`
        ON CONFLICT (event_id, user_id) WHERE status IN ('waiting', 'admitted') DO NOTHING
    RETURNING *
), existing AS (
    SELECT q.*
      FROM queue_entries q
      JOIN allowed ON q.event_id = allowed.event_id AND q.user_id = allowed.user_id
     WHERE q.status IN ('waiting', 'admitted')
       AND NOT EXISTS (SELECT 1 FROM retired WHERE retired.id = q.id)
       AND NOT EXISTS (SELECT 1 FROM joined WHERE joined.user_id = q.user_id)
), mine AS (
    SELECT joined.*, true AS created FROM joined
    UNION ALL
    SELECT existing.*, false FROM existing
), seen AS (
    SELECT mine.*,
           CASE WHEN mine.status = 'admitted' AND mine.pass_expires_at <= now() THEN 'expired'
                WHEN mine.status = 'waiting' AND event.remaining = 0 THEN 'sold_out'
                ELSE mine.status END AS shown,
           greatest(event.queue_opened_at, coalesce(event.sale_starts_at, '-infinity')) AS opens
      FROM mine, event
)
SELECT request.ord, caller.token_version,
       event.id IS NOT NULL AS event_found, event.queued, event.open,
       event.queue_admit_per_minute AS admit_per_minute,
       extract(epoch FROM event.sale_starts_at - now()) AS seconds_to_start,
       seen.id AS entry_id, seen.created,
       seen.event_id, seen.shown AS status, seen.joined_at, seen.admitted_at,
       CASE WHEN seen.shown = 'waiting' AND seen.opens <= now() THEN
           CASE WHEN seen.rank IS NOT NULL THEN seen.rank - counts.admitted
                ELSE counts.ranked - counts.admitted + 1
                     + (SELECT count(*) FROM queue_entries w  -- the few joined since the last sweep
                         WHERE w.event_id = seen.event_id AND w.status = 'waiting' AND w.rank IS NULL
                           AND w.place > counts.ranked_through AND w.place < seen.place)
                     + (SELECT count(*) FROM joined ahead WHERE ahead.place < seen.place)
           END
       END AS position,
       CASE WHEN seen.shown = 'admitted' THEN seen.pass END AS pass,
       seen.pass_expires_at
  FROM request
  LEFT JOIN caller ON caller.ord = request.ord
  LEFT JOIN event ON true
  LEFT JOIN seen ON seen.user_id = request.user_id
  LEFT JOIN counts ON true
 ORDER BY request.ord;
