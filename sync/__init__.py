"""The sync protocol between field nodes and central: wire schemas, the device client, the
server-side merge and the error catalogue. Visits are completed and locked on the device
(``app.queries.save_consents``); sending them to central is built on that lock."""
