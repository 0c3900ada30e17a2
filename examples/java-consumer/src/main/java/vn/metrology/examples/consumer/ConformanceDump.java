package vn.metrology.examples.consumer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cloudevents.CloudEvent;
import io.cloudevents.kafka.CloudEventDeserializer;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * `--check`: reads every record of the topics, from the first to the last present at start, without a group, and
 * prints each as one JSON line holding every attribute and extension as the CloudEvents Java SDK reads it.
 */
final class ConformanceDump {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ConformanceDump() {
    }

    static void run(Options options) throws IOException {
        Properties properties = new Properties();
        properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, options.bootstrapServers());
        properties.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        properties.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        properties.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, CloudEventDeserializer.class);
        try (KafkaConsumer<String, CloudEvent> consumer = new KafkaConsumer<>(properties)) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : options.topics()) {
                consumer.partitionsFor(topic).forEach(info -> partitions.add(new TopicPartition(topic, info.partition())));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            Instant lastRecord = Instant.now();
            while (!atEnd(consumer, end) && Duration.between(lastRecord, Instant.now()).compareTo(options.idle()) < 0) {
                for (ConsumerRecord<String, CloudEvent> record : consumer.poll(Duration.ofMillis(500))) {
                    lastRecord = Instant.now();
                    System.out.println(JSON.writeValueAsString(describe(record)));
                }
            }
        }
    }

    private static boolean atEnd(KafkaConsumer<String, CloudEvent> consumer, Map<TopicPartition, Long> end) {
        return end.entrySet().stream().allMatch(entry -> consumer.position(entry.getKey()) >= entry.getValue());
    }

    private static ObjectNode describe(ConsumerRecord<String, CloudEvent> record) throws IOException {
        CloudEvent event = record.value();
        ObjectNode line = JSON.createObjectNode();
        line.put("topic", record.topic()).put("partition", record.partition()).put("offset", record.offset());
        line.put("key", record.key());
        ObjectNode attributes = line.putObject("attributes");
        attributes.put("id", event.getId());
        attributes.put("source", event.getSource().toString());
        attributes.put("type", event.getType());
        attributes.put("specversion", event.getSpecVersion().toString());
        attributes.put("time", event.getTime() == null ? null : event.getTime().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        attributes.put("subject", event.getSubject());
        attributes.put("datacontenttype", event.getDataContentType());
        attributes.put("dataschema", event.getDataSchema() == null ? null : event.getDataSchema().toString());
        ObjectNode extensions = line.putObject("extensions");
        for (String name : event.getExtensionNames()) {
            extensions.put(name, String.valueOf(event.getExtension(name)));
        }
        line.set("data", event.getData() == null ? null : JSON.readTree(event.getData().toBytes()));
        return line;
    }
}
