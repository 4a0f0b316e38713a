import java.lang.reflect.Field;
import java.util.Arrays;
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
 */
public class LoopbackDynamoDBLocal {
  public static void main(String[] args) throws Exception {
    if (args.length >= 4 && args[0].equals("--compile-to")) {
      // --compile-to DIR SOURCE CLASSPATH
      int code = javax.tools.ToolProvider.getSystemJavaCompiler()
          .run(null, null, null, "-d", args[1], "-cp", args[3], "-nowarn", args[2]);
      System.exit(code);
    }
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    if (proxy == null) return; // -help
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    for (Connector c : server.getConnectors()) {
      if (c instanceof ServerConnector) ((ServerConnector) c).setHost("127.0.0.1");
    }
    proxy.start();
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
  }
}
