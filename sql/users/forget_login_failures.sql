-- A correct password: this email's failed logins are forgotten.
DELETE FROM login_failures WHERE email = lower(:'email');
