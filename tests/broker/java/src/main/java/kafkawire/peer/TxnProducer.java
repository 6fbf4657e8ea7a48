package kafkawire.peer;

import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Writes three transactions to partition 0 of a topic with the Java producer: "c1-0..4" committed,
 * "a-0..4" aborted, "c2-0..4" committed. A read_committed consumer must see the ten committed values
 * and none of the aborted ones; read_uncommitted sees all fifteen. Usage: TxnProducer bootstrap topic
 */
public final class TxnProducer {
  public static void main(String[] args) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "kafkawire-txn-" + args[1]);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      producer.initTransactions();
      String[] prefixes = {"c1", "a", "c2"};
      for (String prefix : prefixes) {
        producer.beginTransaction();
        for (int i = 0; i < 5; i++) producer.send(new ProducerRecord<>(args[1], 0, null, prefix + "-" + i));
        producer.flush();
        if (prefix.equals("a")) producer.abortTransaction(); else producer.commitTransaction();
      }
    }
    System.out.println("ok");
  }
}
