package vn.metrology.examples.consumer;

/** Entry point: the certificate consumer, or with `--check` a dump of every record as the SDK reads it. */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException error) {
            System.err.println(error.getMessage());
            System.exit(2);
            return;
        }
        if (options.check()) {
            ConformanceDump.run(options);
            return;
        }
        if (options.schemas() == null) {
            System.err.println("--schemas DIR is required to consume\n" + Options.USAGE);
            System.exit(2);
        }
        CertificateConsumer.run(options, SchemaCatalog.load(options.schemas()));
    }
}
