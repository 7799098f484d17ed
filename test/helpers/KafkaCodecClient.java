// An independent Kafka client for the compression interop tests: the Apache Kafka Java client
// (kafka-clients with snappy-java, lz4-java and zstd-jni), run by `java -cp '<kafka libs>/*'
// KafkaCodecClient.java ...` (single-file source launch, Java 17+). Driven by test/helpers/java-kafka.ts.
//
//   produce <bootstrap> <codec>=<topic>...  stdin: base64(key) TAB base64(value) [TAB target] per
//                                           line; a line goes to every topic (compressed with its
//                                           codec), or with a target only to the target-th one
//   consume <bootstrap> <n> <timeoutMs> <topic>...
//                                           prints topic TAB base64(key) TAB base64(value) for the
//                                           first n records of each topic (all partitions)
//   sizes <bootstrap> <topic>...            prints topic TAB bytes on disk (describeLogDirs)
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.*;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class KafkaCodecClient {
  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "produce" -> produce(args[1], Arrays.copyOfRange(args, 2, args.length));
      case "consume" ->
          consume(args[1], Integer.parseInt(args[2]), Long.parseLong(args[3]), Arrays.copyOfRange(args, 4, args.length));
      case "sizes" -> sizes(args[1], Arrays.copyOfRange(args, 2, args.length));
      default -> throw new IllegalArgumentException("unknown command " + args[0]);
    }
  }

  static void produce(String bootstrap, String[] codecTopics) throws Exception {
    List<byte[][]> records = new ArrayList<>();
    List<Integer> targets = new ArrayList<>();
    Base64.Decoder b64 = Base64.getDecoder();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        if (line.isEmpty()) continue;
        String[] kv = line.split("\t", -1);
        records.add(new byte[][] {kv[0].isEmpty() ? null : b64.decode(kv[0]), b64.decode(kv[1])});
        targets.add(kv.length > 2 ? Integer.parseInt(kv[2]) : -1);
      }
    }
    for (int t = 0; t < codecTopics.length; t++) {
      String[] parts = codecTopics[t].split("=", 2);
      Properties p = new Properties();
      p.put("bootstrap.servers", bootstrap);
      p.put("compression.type", parts[0]);
      p.put("acks", "all");
      // One batch per partition: the whole input is compressed together, as a real producer would.
      p.put("linger.ms", "5000");
      p.put("batch.size", "1048576");
      try (KafkaProducer<byte[], byte[]> producer =
          new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
        for (int i = 0; i < records.size(); i++) {
          byte[][] r = records.get(i);
          if (targets.get(i) == -1 || targets.get(i) == t)
            producer.send(new ProducerRecord<>(parts[1], r[0], r[1]));
        }
        producer.flush();
      }
    }
    System.out.println("ok");
  }

  static void consume(String bootstrap, int n, long timeoutMs, String[] topics) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("enable.auto.commit", "false");
    Base64.Encoder b64 = Base64.getEncoder();
    StringBuilder out = new StringBuilder();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      for (String topic : topics) {
        List<TopicPartition> parts =
            consumer.partitionsFor(topic).stream()
                .map(i -> new TopicPartition(topic, i.partition()))
                .collect(Collectors.toList());
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
        int got = 0;
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (got < n) {
          if (System.currentTimeMillis() > deadline)
            throw new IllegalStateException(topic + ": " + got + " of " + n + " records");
          for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
            if (got++ >= n) break;
            out.append(topic).append('\t')
                .append(r.key() == null ? "" : b64.encodeToString(r.key())).append('\t')
                .append(r.value() == null ? "" : b64.encodeToString(r.value())).append('\n');
          }
        }
      }
    }
    System.out.print(out);
  }

  static void sizes(String bootstrap, String[] topics) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    Set<String> wanted = new HashSet<>(Arrays.asList(topics));
    Map<String, Long> bytes = new TreeMap<>();
    try (Admin admin = Admin.create(p)) {
      List<Integer> brokers =
          admin.describeCluster().nodes().get().stream().map(nd -> nd.id()).collect(Collectors.toList());
      for (Map<String, LogDirDescription> dirs : admin.describeLogDirs(brokers).allDescriptions().get().values()) {
        for (LogDirDescription d : dirs.values()) {
          for (Map.Entry<TopicPartition, ReplicaInfo> e : d.replicaInfos().entrySet()) {
            if (wanted.contains(e.getKey().topic()))
              bytes.merge(e.getKey().topic(), e.getValue().size(), Long::sum);
          }
        }
      }
    }
    for (String t : topics) System.out.println(t + "\t" + bytes.getOrDefault(t, 0L));
  }
}
