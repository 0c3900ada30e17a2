package vn.metrology.examples.consumer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Command-line options, `--name value` pairs; every one has an environment fallback `METROLOGY_<NAME>`. */
record Options(
        boolean check,
        String bootstrapServers,
        List<String> topics,
        String group,
        Path schemas,
        Path state,
        long maxEvents,
        Duration idle) {

    static final String USAGE = String.join("\n",
            "usage: java -jar certificate-consumer.jar [--check] [options]",
            "  --bootstrap HOST:PORT   Kafka bootstrap servers (default 127.0.0.1:9092)",
            "  --topics A,B            topics to read (default metrology.verification.v1)",
            "  --group ID              consumer group (default example-certificate-consumer)",
            "  --schemas DIR           directory of published JSON Schemas (*.json, searched recursively)",
            "  --state FILE            read model and offsets, rewritten atomically (default certificates.json)",
            "  --max-events N          stop after N events (default: no limit)",
            "  --idle-ms MS            stop after MS without a new record (default 10000)",
            "  --check                 print every record of the topics as one JSON line and stop");

    static Options parse(String[] args) {
        Map<String, String> values = new HashMap<>();
        boolean check = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--check")) {
                check = true;
            } else if (arg.startsWith("--") && i + 1 < args.length) {
                values.put(arg.substring(2), args[++i]);
            } else {
                throw new IllegalArgumentException("unexpected argument '" + arg + "'\n" + USAGE);
            }
        }
        return new Options(
                check,
                value(values, "bootstrap", "127.0.0.1:9092"),
                Arrays.asList(value(values, "topics", "metrology.verification.v1").split(",")),
                value(values, "group", "example-certificate-consumer"),
                values.containsKey("schemas") || System.getenv("METROLOGY_SCHEMAS") != null
                        ? Path.of(value(values, "schemas", "")) : null,
                Path.of(value(values, "state", "certificates.json")),
                Long.parseLong(value(values, "max-events", String.valueOf(Long.MAX_VALUE))),
                Duration.ofMillis(Long.parseLong(value(values, "idle-ms", "10000"))));
    }

    private static String value(Map<String, String> values, String name, String fallback) {
        String env = System.getenv("METROLOGY_" + name.toUpperCase().replace('-', '_'));
        return values.getOrDefault(name, env != null ? env : fallback);
    }
}
