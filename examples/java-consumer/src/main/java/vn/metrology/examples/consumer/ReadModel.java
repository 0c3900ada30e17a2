package vn.metrology.examples.consumer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.TreeMap;

/**
 * Certificates issued and revoked per provider, with what it takes to stay exact across restarts: the next offset
 * of every partition (saved in the same file as the counts, so both move together) and the last version applied
 * per stream (the platform publishes at least once: a re-sent event has a version already applied).
 */
final class ReadModel {

    static final String WORK_RECORDED = "vn.metrology.verification.work-recorded.v1";
    static final String CERTIFICATE_ISSUED = "vn.metrology.verification.certificate-issued.v1";
    static final String CERTIFICATE_REVOKED = "vn.metrology.verification.certificate-revoked.v1";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public Map<String, Long> offsets = new TreeMap<>();
    public Map<String, Long> streamVersions = new TreeMap<>();
    public Map<String, String> providerByJob = new TreeMap<>();
    public Map<String, Long> issuedByProvider = new TreeMap<>();
    public Map<String, Long> revokedByProvider = new TreeMap<>();
    public long applied;

    static ReadModel load(Path file) throws IOException {
        return Files.exists(file) ? JSON.readValue(file.toFile(), ReadModel.class) : new ReadModel();
    }

    /** Write to a temporary file beside it, then rename over it: a crash leaves the old state or the new one. */
    void save(Path file) throws IOException {
        Path absolute = file.toAbsolutePath();
        Path temporary = absolute.resolveSibling(absolute.getFileName() + ".tmp");
        JSON.writeValue(temporary.toFile(), this);
        Files.move(temporary, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Apply one event; false when its stream already holds this version (a duplicate). */
    boolean apply(String type, String streamId, long version, JsonNode data) {
        if (version <= streamVersions.getOrDefault(streamId, 0L)) {
            return false;
        }
        streamVersions.put(streamId, version);
        String job = data.path("job_id").asText();
        switch (type) {
            case WORK_RECORDED -> providerByJob.put(job, data.path("provider_id").asText());
            case CERTIFICATE_ISSUED -> issuedByProvider.merge(providerByJob.getOrDefault(job, "unknown"), 1L, Long::sum);
            case CERTIFICATE_REVOKED -> revokedByProvider.merge(providerByJob.getOrDefault(job, "unknown"), 1L, Long::sum);
            default -> { }
        }
        applied++;
        return true;
    }

    static String partitionKey(String topic, int partition) {
        return topic + ":" + partition;
    }
}
