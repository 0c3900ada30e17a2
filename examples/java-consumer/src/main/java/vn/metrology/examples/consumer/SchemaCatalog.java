package vn.metrology.examples.consumer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The published JSON Schemas, found by their `$id` (an event's `dataschema`). A file holds one schema, or an object
 * of schemas keyed by event type (what `metrology-&lt;service&gt; schemas` prints).
 */
final class SchemaCatalog {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
    private static final SchemaValidatorsConfig CONFIG =
            SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();

    private final Map<String, JsonSchema> byId;

    private SchemaCatalog(Map<String, JsonSchema> byId) {
        this.byId = byId;
    }

    static SchemaCatalog load(Path directory) throws IOException {
        Map<String, JsonSchema> byId = new HashMap<>();
        try (Stream<Path> files = Files.walk(directory)) {
            files.filter(path -> path.toString().endsWith(".json")).forEach(path -> read(path, byId));
        }
        if (byId.isEmpty()) {
            throw new IOException("no JSON Schema with an $id under " + directory);
        }
        return new SchemaCatalog(byId);
    }

    int size() {
        return byId.size();
    }

    /** Problems of `data` against the schema named by `dataschema`; an unpublished schema is a problem too. */
    List<String> problems(URI dataschema, JsonNode data) {
        JsonSchema schema = dataschema == null ? null : byId.get(dataschema.toString());
        if (schema == null) {
            return List.of("no published schema " + dataschema);
        }
        return schema.validate(data).stream().map(ValidationMessage::getMessage).sorted().toList();
    }

    private static void read(Path path, Map<String, JsonSchema> byId) {
        try {
            JsonNode node = JSON.readTree(path.toFile());
            if (node.hasNonNull("$id")) {
                add(node, byId);
            } else {
                node.elements().forEachRemaining(schema -> {
                    if (schema.hasNonNull("$id")) {
                        add(schema, byId);
                    }
                });
            }
        } catch (IOException error) {
            throw new UncheckedIOException("cannot read schema file " + path, error);
        }
    }

    private static void add(JsonNode schema, Map<String, JsonSchema> byId) {
        byId.put(schema.get("$id").asText(), FACTORY.getSchema(schema, CONFIG));
    }
}
