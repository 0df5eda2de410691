"""Values the tests share: the test secrets, and valid request bodies to start from."""

JWT_SECRET = "test-secret-that-is-at-least-32-bytes-long!"
WEBHOOK_SECRET = "test-webhook-secret"
TICKET_SIGNING_KEY = "dGVzdC1zaWduaW5nLWtleS1vZi0zMi1ieXRlcyEhISE="  # base64 of 32 bytes
WEBHOOK = {"X-Webhook-Secret": WEBHOOK_SECRET}  # the payment provider's header
# A Unix-socket directory that does not exist: connecting fails at once.
UNREACHABLE_DATABASE_URL = "postgresql://postgres@/ticketing_test?host=/nonexistent-dir"

EVENT = {
    "name": "Rock in Rio",
    "location": "Rio de Janeiro",
    "organization": "Live Nation",
    "rating": "Livre",
    "date": "2030-10-10T00:00:00Z",
    "capacity": 100,
    "price": 100.0,
    "image_url": "http://example.com/image.jpg",
    "description": "The biggest music festival in Latin America",
}
SIGNUP = {"name": "Ana Souza", "email": "ana@example.com", "password": "correct horse"}
