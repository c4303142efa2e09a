-- UUIDv7 made in SQL, so set-based inserts (a reply's notifications: one INSERT ... SELECT) make the same
-- time-ordered ids the service makes with Guid.CreateVersion7: the 48-bit Unix time in milliseconds of
-- `at` over a random UUID, with the version nibble set to 7. SQLite gets the same function from the service
-- (Data/SqliteDatabase.cs registers it on the writer's connection).
CREATE OR REPLACE FUNCTION livechat_uuidv7(at timestamptz) RETURNS uuid AS $$
    SELECT encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send(floor(extract(epoch FROM at) * 1000)::bigint) FROM 3)
                    FROM 1 FOR 6),
            52, 1), 53, 1),
        'hex')::uuid;
$$ LANGUAGE sql VOLATILE;
