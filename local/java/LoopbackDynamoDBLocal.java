import java.io.File;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;

/**
 * DynamoDB Local bound to 127.0.0.1. Its command line has no host option and its Jetty listens on
 * every interface, so this builds the server from the same arguments, sets each connector's host to
 * loopback before it starts, and starts it.
 *
 * Run once in source-file mode with `--compile-to DIR` to compile itself into DIR (the JRE's own
 * compiler module does it: no JDK needed); then `java -cp DIR:DynamoDBLocal.jar LoopbackDynamoDBLocal
 * -inMemory -sharedDb -port N`.
 *
 * Class-data sharing (AppCDS) halves DynamoDB Local's start, but the JVM archives classes only from
 * jars on a class path without non-empty folders, and DynamoDBLocal.jar's manifest adds its own
 * folder ("."). So --compile-to also writes DIR/launcher.jar (this class) and DIR/DynamoDBLocal.jar
 * (the emulator's jar without its manifest), and `--train PORT`, run with -XX:ArchiveClassesAtExit,
 * starts the server, makes the calls a load test makes, and exits: the archive holds what they loaded.
 */
public class LoopbackDynamoDBLocal {
  public static void main(String[] args) throws Exception {
    if (args.length >= 4 && args[0].equals("--compile-to")) {
      // --compile-to DIR SOURCE CLASSPATH
      int code = javax.tools.ToolProvider.getSystemJavaCompiler()
          .run(null, null, null, "-d", args[1], "-cp", args[3], "-nowarn", args[2]);
      if (code == 0) {
        try {
          jarsForClassDataSharing(new File(args[1]), new File(args[3]));
        } catch (Exception e) {
          // Optional: without these jars DynamoDB Local starts as before, only slower.
          System.err.println("no class-data sharing jars: " + e);
        }
        copyNativeLibrary(new File(args[1]));
      }
      System.exit(code);
    }
    if (args.length == 2 && args[0].equals("--train")) {
      train(Integer.parseInt(args[1]));
      System.exit(0);
    }
    start(args);
  }

  static final int BIND_FAILED = 98;
  static final String LISTENING = "loadtest: DynamoDB Local is listening";

  private static DynamoDBProxyServer start(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    if (proxy == null) return null; // -help
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    for (Connector c : server.getConnectors()) {
      if (c instanceof ServerConnector) ((ServerConnector) c).setHost("127.0.0.1");
    }
    try {
      proxy.start();
    } catch (Exception e) {
      // Its port was taken between the parent choosing it and this bind (another process on the
      // machine): exit at once with a code the parent knows, instead of idling with Jetty's threads.
      e.printStackTrace();
      System.exit(BIND_FAILED);
    }
    // The parent waits for this line, not only for an answer on the port, which could be another's.
    System.out.println(LISTENING);
    // Stdin is a pipe from the parent that is never written: end of file means the parent is gone
    // (even killed with SIGKILL, when it can run no clean-up), so no emulator outlives its CLI.
    if (System.getenv("LOADTEST_WATCH_PARENT") != null) {
      Thread watch = new Thread(() -> {
        try {
          while (System.in.read() != -1) {}
        } catch (java.io.IOException e) {
          // A broken pipe is the same news.
        }
        System.exit(0);
      });
      watch.setDaemon(true);
      watch.start();
    }
    return proxy;
  }

  private static void jarsForClassDataSharing(File dir, File emulatorJar) throws Exception {
    File launcher = new File(dir, "launcher.jar");
    try (ZipOutputStream out = new ZipOutputStream(new FileOutputStream(launcher))) {
      for (File f : dir.listFiles((d, name) -> name.endsWith(".class"))) {
        out.putNextEntry(new ZipEntry(f.getName()));
        out.write(Files.readAllBytes(f.toPath()));
        out.closeEntry();
      }
    }
    try (ZipFile in = new ZipFile(emulatorJar);
        ZipOutputStream out = new ZipOutputStream(new FileOutputStream(new File(dir, "DynamoDBLocal.jar")))) {
      for (Enumeration<? extends ZipEntry> e = in.entries(); e.hasMoreElements(); ) {
        ZipEntry entry = e.nextElement();
        if (entry.getName().equals("META-INF/MANIFEST.MF")) continue;
        out.putNextEntry(new ZipEntry(entry.getName()));
        try (InputStream data = in.getInputStream(entry)) {
          data.transferTo(out);
        }
        out.closeEntry();
      }
    }
  }

  /**
   * DynamoDB Local copies its SQLite library out of its jar into the temp folder at every start, under
   * a new name, and deletes it only at an orderly exit, which a run's SIGKILL is not: 0.9 MB left in
   * /tmp per start. This copies the library its loader would pick (the same resource, by its own
   * functions) once, into DIR/native; the parent then passes -Dorg.sqlite.lib.path=DIR/native, which
   * that loader tries first. Any failure here only means the copy per start goes on.
   */
  private static void copyNativeLibrary(File dir) {
    try {
      Class<?> util = Class.forName("com.amazonaws.services.dynamodbv2.local.shared.access.sqlite.SQLiteLibraryLoaderUtil");
      String folder = (String) util.getMethod("getNativeLibFolderPathForCurrentOS").invoke(null);
      String name = (String) util.getMethod("getNativeLibName").invoke(null);
      String resource = "com/amazonaws/services/dynamodbv2/local/shared/access/sqlite/native/" + folder + "/" + name;
      try (InputStream in = util.getClassLoader().getResourceAsStream(resource)) {
        if (in == null) return;
        File target = new File(dir, "native");
        target.mkdirs();
        Files.copy(in, new File(target, name).toPath());
      }
    } catch (Exception e) {
      System.err.println("no copy of the native SQLite library: " + e);
    }
  }

  /** The calls of a typical run, each once, so their classes are loaded (and archived). */
  private static void train(int port) throws Exception {
    DynamoDBProxyServer proxy = start(new String[] {"-inMemory", "-sharedDb", "-disableTelemetry", "-port", String.valueOf(port)});
    String key = "\"PK\":{\"S\":\"a\"},\"SK\":{\"S\":\"b\"}";
    String item = "{" + key + ",\"G\":{\"S\":\"g\"},\"N\":{\"N\":\"1\"}}";
    call(port, "CreateTable", "{\"TableName\":\"train\",\"BillingMode\":\"PAY_PER_REQUEST\","
        + "\"AttributeDefinitions\":[{\"AttributeName\":\"PK\",\"AttributeType\":\"S\"},"
        + "{\"AttributeName\":\"SK\",\"AttributeType\":\"S\"},{\"AttributeName\":\"G\",\"AttributeType\":\"S\"}],"
        + "\"KeySchema\":[{\"AttributeName\":\"PK\",\"KeyType\":\"HASH\"},{\"AttributeName\":\"SK\",\"KeyType\":\"RANGE\"}],"
        + "\"GlobalSecondaryIndexes\":[{\"IndexName\":\"GSI1\",\"KeySchema\":[{\"AttributeName\":\"G\",\"KeyType\":\"HASH\"}],"
        + "\"Projection\":{\"ProjectionType\":\"ALL\"}}]}");
    call(port, "DescribeTable", "{\"TableName\":\"train\"}");
    call(port, "ListTables", "{}");
    call(port, "PutItem", "{\"TableName\":\"train\",\"Item\":" + item + ",\"ReturnConsumedCapacity\":\"TOTAL\"}");
    call(port, "GetItem", "{\"TableName\":\"train\",\"Key\":{" + key + "},\"ReturnConsumedCapacity\":\"TOTAL\"}");
    call(port, "UpdateItem", "{\"TableName\":\"train\",\"Key\":{" + key + "},"
        + "\"UpdateExpression\":\"SET #n = #n + :one\",\"ConditionExpression\":\"attribute_exists(PK)\","
        + "\"ExpressionAttributeNames\":{\"#n\":\"N\"},\"ExpressionAttributeValues\":{\":one\":{\"N\":\"1\"}}}");
    call(port, "Query", "{\"TableName\":\"train\",\"IndexName\":\"GSI1\",\"KeyConditionExpression\":\"G = :g\","
        + "\"ExpressionAttributeValues\":{\":g\":{\"S\":\"g\"}}}");
    call(port, "Query", "{\"TableName\":\"train\",\"KeyConditionExpression\":\"PK = :p AND begins_with(SK, :s)\","
        + "\"ExpressionAttributeValues\":{\":p\":{\"S\":\"a\"},\":s\":{\"S\":\"b\"}}}");
    call(port, "Scan", "{\"TableName\":\"train\",\"Limit\":10}");
    call(port, "BatchWriteItem", "{\"RequestItems\":{\"train\":[{\"PutRequest\":{\"Item\":" + item + "}}]}}");
    call(port, "BatchGetItem", "{\"RequestItems\":{\"train\":{\"Keys\":[{" + key + "}]}}}");
    call(port, "TransactWriteItems", "{\"TransactItems\":[{\"Update\":{\"TableName\":\"train\",\"Key\":{" + key + "},"
        + "\"UpdateExpression\":\"SET #n = :v\",\"ExpressionAttributeNames\":{\"#n\":\"N\"},"
        + "\"ExpressionAttributeValues\":{\":v\":{\"N\":\"2\"}}}}]}");
    call(port, "ExecuteStatement", "{\"Statement\":\"SELECT * FROM train WHERE PK = 'a'\"}");
    call(port, "DeleteItem", "{\"TableName\":\"train\",\"Key\":{" + key + "}}");
    call(port, "DeleteTable", "{\"TableName\":\"train\"}");
    if (proxy != null) proxy.stop();
  }

  private static void call(int port, String operation, String body) throws Exception {
    HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + port + "/").openConnection();
    c.setRequestMethod("POST");
    c.setDoOutput(true);
    c.setRequestProperty("Content-Type", "application/x-amz-json-1.0");
    c.setRequestProperty("X-Amz-Target", "DynamoDB_20120810." + operation);
    c.setRequestProperty("X-Amz-Date", "20240101T000000Z");
    c.setRequestProperty("Authorization",
        "AWS4-HMAC-SHA256 Credential=train/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0");
    try (OutputStream out = c.getOutputStream()) {
      out.write(body.getBytes(StandardCharsets.UTF_8));
    }
    int status = c.getResponseCode();
    try (InputStream in = status < 400 ? c.getInputStream() : c.getErrorStream()) {
      if (in != null) in.readAllBytes();
    }
    if (status >= 400) System.err.println("train: " + operation + " answered " + status);
  }
}
