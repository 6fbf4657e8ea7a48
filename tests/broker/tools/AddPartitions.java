// Grows a topic to a number of partitions with Kafka's own Admin client (CreatePartitions), for the
// group test in which the leader notices new partitions. Run with the source launcher on the broker's
// classpath (kafka-clients):  java -cp "$(kafka-local classpath)" AddPartitions.java <bootstrap> <topic> <count>
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;

public class AddPartitions {
  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: AddPartitions <bootstrap> <topic> <count>");
      System.exit(2);
    }
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    try (Admin admin = Admin.create(props)) {
      admin.createPartitions(Map.of(args[1], NewPartitions.increaseTo(Integer.parseInt(args[2])))).all().get();
    }
    System.out.println("ok");
  }
}
