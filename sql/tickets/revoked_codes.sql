-- A page of one (not deleted) event's tickets whose older codes are revoked (a transfer
-- bumped code_version past 1), by ticket id, for offline scanners: a code of such a
-- ticket is good only at its current_version. Reads the partial index
-- tickets_revoked_codes_idx, so events without transfers cost nothing.
-- No row at all: no such event. Otherwise at least one row (a null id on an empty page),
-- so the total is known even past the last page.
WITH event AS (
    SELECT id FROM events WHERE id = :'event_id'::uuid AND deleted_at IS NULL
), revoked AS (
    SELECT t.id, t.code_version
      FROM tickets t
     WHERE t.event_id = (SELECT id FROM event) AND t.code_version > 1
), page AS (
    SELECT * FROM revoked ORDER BY id LIMIT :'limit'::int OFFSET :'offset'::int
)
SELECT (SELECT count(*) FROM revoked) AS total, page.id, page.code_version AS current_version
  FROM event
  LEFT JOIN page ON true
 ORDER BY page.id;
