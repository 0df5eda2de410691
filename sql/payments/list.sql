-- A page of the ledger, oldest first (ties by id), optionally of one state.
-- Always returns at least one row, so the total is known even past the last page.
WITH matching AS (
    SELECT *
      FROM payments
     WHERE :'state'::text IS NULL OR state = :'state'::text
), page AS (
    SELECT id, order_id, payment_id, amount, currency, state, received_at, updated_at, refunded_at
      FROM matching
     ORDER BY received_at, id
     LIMIT :'limit'::int OFFSET :'offset'::int
)
SELECT (SELECT count(*) FROM matching) AS total, page.*
  FROM (SELECT) AS always_one_row
  LEFT JOIN page ON true
 ORDER BY page.received_at, page.id;
