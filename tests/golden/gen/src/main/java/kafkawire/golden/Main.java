package kafkawire.golden;

/**
 * Golden test-vector generator for kafkawire.
 *
 * <pre>
 *   messages   JSON lines on stdin  -> "name version hex" lines on stdout
 *   messages --older FILE            the same; input lines at versions this kafka-clients no longer has
 *                                    (KIP-896) go to FILE, for a run with an older kafka-clients
 *   records    no input             -> RecordBatch v2 golden batches on stdout
 *   errors     no input             -> protocol/src/kafka_errors.inc (the Errors enum) on stdout
 *   selftest   no input             -> checks this tool against every schema in the jar
 *   template NAME VERSION           -> one sample input line with every field of that version
 * </pre>
 *
 * Problems go to stderr; the exit status is 1 if there was any, so regen.sh
 * never commits a golden file produced from a bad input.
 */
public final class Main {
    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "";
        int rc;
        switch (mode) {
            case "messages" -> {
                java.io.PrintStream older = null;
                if (args.length == 3 && args[1].equals("--older")) {
                    older = new java.io.PrintStream(new java.io.FileOutputStream(args[2]), true, "UTF-8");
                }
                rc = GoldenMessages.run(System.in, System.out, System.err, older);
                if (older != null) older.close();
            }
            case "records" -> rc = GoldenRecords.run(System.out);
            case "errors" -> rc = GoldenErrors.run(System.out);
            case "assignments" -> rc = GoldenAssignments.run(System.out, System.err);
            case "selftest" -> rc = SelfTest.run(System.out, System.err);
            case "template" -> rc = SelfTest.template(args[1], Integer.parseInt(args[2]), System.out);
            default -> {
                System.err.println("usage: Main messages|records|errors|selftest|template NAME VERSION");
                rc = 2;
            }
        }
        System.out.flush();
        System.exit(rc);
    }
}
