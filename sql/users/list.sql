-- A page of accounts for admins, oldest first (ties by id), optionally only one role
-- and/or emails containing :'email' (case-insensitive, taken literally: LIKE's `\`, `%`
-- and `_` in it are escaped). Always returns at least one row, so the total is known
-- even past the last page.
WITH matching AS (
    SELECT id, name, email, role, created_at
    FROM users
    WHERE (:'role'::text IS NULL OR role = :'role')
      AND (:'email'::text IS NULL
           OR email ILIKE '%' || replace(replace(replace(:'email', '\', '\\'), '%', '\%'), '_', '\_') || '%'
              ESCAPE '\')
), page AS (
    SELECT *
    FROM matching
    ORDER BY created_at, id
    LIMIT :'limit'::int OFFSET :'offset'::int
)
SELECT (SELECT count(*) FROM matching) AS total, page.*
FROM (SELECT) AS always_one_row
LEFT JOIN page ON true
ORDER BY page.created_at, page.id;
