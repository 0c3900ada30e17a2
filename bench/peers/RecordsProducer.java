// Kafka's own Java producer sending exactly the records the outbox relay sends (keys, values and headers read from
// a file), with the settings the relay uses: the peer `bench/eventkit_relay.py` measures the relay against.
//
//     java -cp "<kafka libs>/*" bench/peers/RecordsProducer.java BOOTSTRAP TOPIC RECORDS_FILE
//
// The file holds records one after another, each as big-endian lengths and bytes: key, value, then the number of
// headers and each header's name and value. Timed like ProducerPerformance: from the first send to the last
// acknowledgement (`flush`). Prints one line: "<records> records sent, <records/s> records/sec".

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class RecordsProducer {
    record Stored(byte[] key, byte[] value, List<Header> headers) {}

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: RecordsProducer BOOTSTRAP TOPIC RECORDS_FILE");
            System.exit(2);
        }
        List<Stored> records = read(args[2]);
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        AtomicReference<Exception> failure = new AtomicReference<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            producer.partitionsFor(args[1]); // metadata before the clock starts, as the relay's producer has it
            long started = System.nanoTime();
            for (Stored stored : records) {
                producer.send(
                    new ProducerRecord<>(args[1], null, stored.key(), stored.value(), stored.headers()),
                    (metadata, error) -> { if (error != null) failure.compareAndSet(null, error); });
            }
            producer.flush();
            double seconds = (System.nanoTime() - started) / 1e9;
            if (failure.get() != null) {
                throw failure.get();
            }
            System.out.printf("%d records sent, %.1f records/sec%n", records.size(), records.size() / seconds);
        }
    }

    static List<Stored> read(String path) throws IOException {
        List<Stored> records = new ArrayList<>();
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(path), 1 << 20))) {
            while (true) {
                byte[] key;
                try {
                    key = bytes(in);
                } catch (EOFException end) {
                    return records;
                }
                byte[] value = bytes(in);
                int count = in.readInt();
                List<Header> headers = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    headers.add(new RecordHeader(new String(bytes(in), StandardCharsets.UTF_8), bytes(in)));
                }
                records.add(new Stored(key, value, headers));
            }
        }
    }

    static byte[] bytes(DataInputStream in) throws IOException {
        byte[] out = new byte[in.readInt()];
        in.readFully(out);
        return out;
    }
}
