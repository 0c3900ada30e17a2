package vn.metrology.examples.consumer;

import io.cloudevents.CloudEvent;
import io.cloudevents.SpecVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** What every event of the platform carries (docs/integration.md): the problems found, empty when it conforms. */
final class EventChecks {

    private static final Pattern TYPE = Pattern.compile("vn\\.metrology\\.[a-z]+\\.[a-z-]+\\.v[0-9]+");
    private static final Pattern SOURCE = Pattern.compile("/metrology/[a-z]+");
    private static final Pattern TENANT = Pattern.compile("[0-9]{2}");
    private static final List<String> REQUIRED_EXTENSIONS = List.of("streamid", "streamversion", "tenant", "correlationid");

    private EventChecks() {
    }

    static List<String> problems(CloudEvent event, String key) {
        List<String> problems = new ArrayList<>();
        if (event.getSpecVersion() != SpecVersion.V1) {
            problems.add("specversion is " + event.getSpecVersion() + ", not 1.0");
        }
        if (!TYPE.matcher(event.getType()).matches()) {
            problems.add("type '" + event.getType() + "' is not vn.metrology.<service>.<fact>.v<N>");
        }
        if (!SOURCE.matcher(event.getSource().toString()).matches()) {
            problems.add("source '" + event.getSource() + "' is not /metrology/<service>");
        }
        if (event.getTime() == null) {
            problems.add("time is missing");
        }
        if (!"application/json".equals(event.getDataContentType())) {
            problems.add("datacontenttype is " + event.getDataContentType() + ", not application/json");
        }
        String expectedSchema = "urn:metrology:schema:" + event.getType().replaceFirst("\\.v([0-9]+)$", ":$1");
        if (event.getDataSchema() == null || !expectedSchema.equals(event.getDataSchema().toString())) {
            problems.add("dataschema is " + event.getDataSchema() + ", not " + expectedSchema);
        }
        for (String name : REQUIRED_EXTENSIONS) {
            if (event.getExtension(name) == null) {
                problems.add("extension " + name + " is missing");
            }
        }
        Object streamId = event.getExtension("streamid");
        if (streamId != null && !streamId.toString().equals(key)) {
            problems.add("record key '" + key + "' is not the streamid '" + streamId + "'");
        }
        if (streamId != null && !streamId.toString().equals(event.getSubject())) {
            problems.add("subject '" + event.getSubject() + "' is not the streamid '" + streamId + "'");
        }
        Object version = event.getExtension("streamversion");
        if (version != null && !version.toString().matches("[1-9][0-9]*")) {
            problems.add("streamversion '" + version + "' is not a positive integer");
        }
        Object tenant = event.getExtension("tenant");
        if (tenant != null && !TENANT.matcher(tenant.toString()).matches()) {
            problems.add("tenant '" + tenant + "' is not a two-digit province code");
        }
        if (event.getData() == null) {
            problems.add("data is missing");
        }
        return problems;
    }
}
