package kafkawire.peer;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The Java side of kafkawire's transaction interop tests. Usage: TxnPeer MODE bootstrap topic [txn-id]
 *
 * <ul>
 *   <li>fence: initTransactions with txn-id (which fences any kafkawire producer holding it), then one
 *       committed transaction with the value "java-fresh". Prints "ok".
 *   <li>zombie: initTransactions with txn-id, a transaction with "java-zombie-0..2" flushed to the log,
 *       prints "ready", waits for a line on stdin, then tries to commit. Prints "fenced CLASS" when the
 *       commit is refused (exit 0), "committed" when it is not (exit 1).
 *   <li>read: a read_committed consumer of every partition of topic, from the beginning, until nothing
 *       new came for 5 s (or 60 s passed). Prints "value V" per record, then "count N".
 * </ul>
 */
public final class TxnPeer {
  private static KafkaProducer<String, String> producer(String bootstrap, String txnId) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txnId);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    return new KafkaProducer<>(p);
  }

  public static void main(String[] args) throws Exception {
    String mode = args[0], bootstrap = args[1], topic = args[2];
    if (mode.equals("fence")) {
      try (KafkaProducer<String, String> producer = producer(bootstrap, args[3])) {
        producer.initTransactions();
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(topic, 0, null, "java-fresh"));
        producer.commitTransaction();
      }
      System.out.println("ok");
    } else if (mode.equals("zombie")) {
      KafkaProducer<String, String> producer = producer(bootstrap, args[3]);
      producer.initTransactions();
      producer.beginTransaction();
      for (int i = 0; i < 3; i++) producer.send(new ProducerRecord<>(topic, 0, null, "java-zombie-" + i));
      producer.flush();
      System.out.println("ready");
      System.out.flush();
      new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
      try {
        producer.commitTransaction();
        System.out.println("committed");
        producer.close(Duration.ofSeconds(5));
        System.exit(1);
      } catch (ProducerFencedException | InvalidProducerEpochException e) {
        System.out.println("fenced " + e.getClass().getSimpleName());
      }
      producer.close(Duration.ZERO);
    } else if (mode.equals("read")) {
      Properties p = new Properties();
      p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
      p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
      int count = 0;
      try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
        List<TopicPartition> parts = new ArrayList<>();
        consumer.partitionsFor(topic).forEach(i -> parts.add(new TopicPartition(topic, i.partition())));
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
        long last = System.currentTimeMillis(), start = last;
        while (System.currentTimeMillis() - last < 5000 && System.currentTimeMillis() - start < 60000) {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
            System.out.println("value " + r.value());
            count++;
            last = System.currentTimeMillis();
          }
        }
      }
      System.out.println("count " + count);
    } else {
      System.err.println("unknown mode " + mode);
      System.exit(2);
    }
  }
}
