package vn.metrology.examples.consumer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cloudevents.CloudEvent;
import io.cloudevents.kafka.CloudEventDeserializer;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Subscribes with its own group, checks and validates every event, applies it to the read model, and after each
 * batch saves the model with its offsets (then commits them to the group, so lag shows in the usual tools).
 * On restart it seeks to the saved offsets: nothing is counted twice, nothing skipped.
 */
final class CertificateConsumer {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Options options;
    private final SchemaCatalog schemas;
    private final ReadModel model;
    private final Map<String, Long> run = new LinkedHashMap<>(Map.of("read", 0L, "applied", 0L, "duplicates", 0L, "invalid", 0L));

    private CertificateConsumer(Options options, SchemaCatalog schemas, ReadModel model) {
        this.options = options;
        this.schemas = schemas;
        this.model = model;
    }

    static void run(Options options, SchemaCatalog schemas) throws IOException {
        CertificateConsumer consumer = new CertificateConsumer(options, schemas, ReadModel.load(options.state()));
        consumer.consume();
        consumer.printSummary();
    }

    private void consume() throws IOException {
        try (KafkaConsumer<String, CloudEvent> consumer = new KafkaConsumer<>(properties())) {
            consumer.subscribe(options.topics(), new ResumeFromState(consumer));
            Instant lastRecord = Instant.now();
            while (run.get("read") < options.maxEvents()
                    && Duration.between(lastRecord, Instant.now()).compareTo(options.idle()) < 0) {
                List<ConsumerRecord<String, CloudEvent>> batch = poll(consumer);
                if (batch.isEmpty()) {
                    continue;
                }
                lastRecord = Instant.now();
                for (ConsumerRecord<String, CloudEvent> record : batch) {
                    if (run.get("read") >= options.maxEvents()) {
                        break;
                    }
                    handle(record);
                }
                model.save(options.state());
                consumer.commitSync(savedOffsets());
            }
        }
    }

    private List<ConsumerRecord<String, CloudEvent>> poll(KafkaConsumer<String, CloudEvent> consumer) throws IOException {
        List<ConsumerRecord<String, CloudEvent>> batch = new ArrayList<>();
        try {
            consumer.poll(Duration.ofMillis(500)).forEach(batch::add);
        } catch (RecordDeserializationException error) {
            System.err.printf("not a CloudEvent at %s@%d: %s%n", error.topicPartition(), error.offset(), error.getMessage());
            count("read");
            count("invalid");
            TopicPartition partition = error.topicPartition();
            model.offsets.put(ReadModel.partitionKey(partition.topic(), partition.partition()), error.offset() + 1);
            consumer.seek(partition, error.offset() + 1);
            model.save(options.state());
        }
        return batch;
    }

    private void handle(ConsumerRecord<String, CloudEvent> record) {
        count("read");
        CloudEvent event = record.value();
        List<String> problems = new ArrayList<>(EventChecks.problems(event, record.key()));
        JsonNode data = null;
        if (event.getData() != null) {
            try {
                data = JSON.readTree(event.getData().toBytes());
                problems.addAll(schemas.problems(event.getDataSchema(), data));
            } catch (IOException error) {
                problems.add("data is not JSON: " + error.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            count("invalid");
            System.err.printf("invalid event %s at %s-%d@%d: %s%n",
                    event.getId(), record.topic(), record.partition(), record.offset(), problems);
        } else {
            String stream = event.getExtension("streamid").toString();
            long version = Long.parseLong(event.getExtension("streamversion").toString());
            count(model.apply(event.getType(), stream, version, data) ? "applied" : "duplicates");
        }
        model.offsets.put(ReadModel.partitionKey(record.topic(), record.partition()), record.offset() + 1);
    }

    private Map<TopicPartition, OffsetAndMetadata> savedOffsets() {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        model.offsets.forEach((key, offset) -> {
            int colon = key.lastIndexOf(':');
            TopicPartition partition = new TopicPartition(key.substring(0, colon), Integer.parseInt(key.substring(colon + 1)));
            if (options.topics().contains(partition.topic())) {
                offsets.put(partition, new OffsetAndMetadata(offset));
            }
        });
        return offsets;
    }

    private void count(String what) {
        run.merge(what, 1L, Long::sum);
    }

    private void printSummary() throws IOException {
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("run", run);
        summary.put("applied_total", model.applied);
        summary.put("certificates_issued", model.issuedByProvider);
        summary.put("certificates_revoked", model.revokedByProvider);
        System.out.println(JSON.writeValueAsString(summary));
    }

    private Properties properties() {
        Properties properties = new Properties();
        properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, options.bootstrapServers());
        properties.put(ConsumerConfig.GROUP_ID_CONFIG, options.group());
        properties.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        properties.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        properties.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        properties.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, CloudEventDeserializer.class);
        return properties;
    }

    /** On every assignment, continue from the offsets saved with the read model (the group's are only a copy). */
    private final class ResumeFromState implements ConsumerRebalanceListener {
        private final KafkaConsumer<String, CloudEvent> consumer;

        ResumeFromState(KafkaConsumer<String, CloudEvent> consumer) {
            this.consumer = consumer;
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            for (TopicPartition partition : partitions) {
                Long saved = model.offsets.get(ReadModel.partitionKey(partition.topic(), partition.partition()));
                if (saved != null) {
                    consumer.seek(partition, saved);
                } else {
                    consumer.seekToBeginning(List.of(partition));
                }
            }
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        }
    }
}
