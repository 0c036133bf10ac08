package io.github.sisksse.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.jspecify.annotations.Nullable;
import redis.embedded.RedisServer;

/**
 * Runs the benchmark: for each scenario and each side (starter or control, on Tomcat or Jetty), starts the bench
 * server as a separate JVM, measures, stops it, and finally prints every side and the ratios starter/control as a
 * Markdown table. See docs/performance.md. With the first argument {@code server}, runs the server instead (that is
 * how the runner starts it).
 * <p>
 * The cluster scenarios (issue "Streams that span instances") measure the starter alone, on one instance and on
 * two sharing one Redis, against its one-instance baselines measured in the same run: the control has no cluster,
 * so they skip the control sides. For them the runner starts a redis-server itself (7.0.15, from the embedded-redis
 * dependency, on a free port of 127.0.0.1, without persistence), empties it (FLUSHALL) before every group of
 * servers, and stops it at the end, also from its shutdown hook. Servers on Redis get
 * {@code --sisk.sse.broker=redis --spring.data.redis.url=redis://127.0.0.1:<port> --spring.data.redis.timeout=2s};
 * servers on the default in-memory log exclude Spring Data Redis's auto-configuration. Each group of servers is
 * started fresh; one load client (one I/O thread) holds the streams of every instance.
 * <p>
 * Options ({@code --name=value}):
 * <ul>
 * <li>{@code scenario}: a comma list of connections, fanout, throughput, heap, stall, cross-send, split-fanout,
 * reconnect-storm; {@code all} for the first five (the default), {@code cluster} for the last three. {@code all}
 * leaves the cluster scenarios out: they need Redis and start 11 server JVMs per run and container.</li>
 * <li>{@code sides} (starter,control) and {@code containers} (tomcat; or tomcat,jetty): every side on every
 * container, named like {@code starter-jetty}. A side already naming its container ({@code control-tomcat}) is
 * taken as it is; a side without one, like the old {@code starter}, runs on each of {@code containers}.</li>
 * <li>{@code repeat} (1): run each scenario that many times, every side on fresh server JVMs each time; the
 * summary gives the median and min..max per side and the ratio of the medians</li>
 * <li>connections: {@code connections} (19000)</li>
 * <li>fanout: {@code clients} (fan-out sizes, 1000,10000), {@code rounds} (20)</li>
 * <li>throughput: {@code throughput-clients} (10000), {@code events} (100), {@code event-size} (128)</li>
 * <li>heap: {@code idle} (5000), {@code heap-pause} (0 s), {@code control-tuned} (true: also the control with the
 * starter's container tuning, where there is one)</li>
 * <li>stall: {@code stalled} (2; stuck clients that never read, or a comma list such as 2,40,200: each count, and
 * 0 for the time alone, on a fresh server), {@code healthy} (reading clients; 20 minus the stalled count when one
 * count is given, 20 with a list), {@code stall-events} (3000),
 * {@code stall-size} (4096), {@code stall-warmup-events} (200), {@code stall-timeout} (200 s),
 * {@code stall-settle} (5 s between the healthy clients' end and reading threads and close reasons),
 * {@code stall-bigqueue} (true: also the starter with a queue that holds the burst, {@code bigqueue-max-bytes}
 * 16MB, {@code bigqueue-max-events} 4000)</li>
 * <li>cross-send: {@code cross-clients} (100, identified, on instance A), {@code cross-rounds} (200 measured, after
 * {@code cross-warmup} 40 not counted), {@code cross-spacing} (5 ms between rounds), {@code cross-timeout} (5000
 * ms for one send to arrive), {@code cross-size} (64 bytes of data), {@code cross-max-seconds} (120: rounds stop
 * after that, per group of servers). Each round posts one {@code registry.send} for one identifier, alternately to
 * B (cross) and to A (local), both on Redis, one round at a time; before that, the same number of rounds, all
 * local, on one instance with the in-memory log. Send-to-receive time: from writing the POST to the event's arrival at
 * the load client, both on this JVM's clock. Reported: p50 and p99 of each, and the p50 added by the other
 * instance (cross minus local, on Redis).</li>
 * <li>split-fanout: {@code split-clients} (10000), {@code rounds} (20, as fanout): broadcast through A to the
 * clients split half and half over A and B, against all of them on one instance, with the Redis log and with the
 * in-memory one; as fanout, the time until the last client has the event, p50 and p99; ratios two / one
 * instance.</li>
 * <li>reconnect-storm: {@code storm-clients} (10000), {@code storm-events} (20 missed events owed to each),
 * {@code storm-brokers} (memory,redis: one instance each), {@code storm-owed} (broadcast: that many broadcasts,
 * well within the default {@code sisk.sse.replay.max-events} of 10000; or send: that many {@code registry.send}
 * to each identifier, for which the servers get {@code sisk.sse.replay.max-events} =
 * clients x (events + 1) + 1000 and {@code max-bytes} to match), {@code storm-timeout} (180 s), {@code event-size}
 * (128). Servers get {@code sisk.sse.replay.enabled=true}; Tomcat's 20000 connections suffice and
 * {@code sisk.sse.max-connections} is not set. The clients connect, get one event, are reset, miss the owed events,
 * and once the server counts no connection, reconnect all at once with {@code Last-Event-ID} (at most 128
 * waiting for their response headers, as whenever the load client opens): time until every client has all its
 * missed events, and how many did not get exactly those, each once, in order. Against: on another fresh server
 * after the same steps, as many new clients connecting at once without {@code Last-Event-ID}: time until all have
 * their response headers.</li>
 * <li>servers: {@code xmx} (2g), {@code tuning} (Tomcat settings of the starter side), {@code jetty-tuning}
 * (Jetty settings of the starter side, none by default), {@code jetty-idle-timeout} (60s), {@code send-buffer}
 * (none: {@code sisk.sse.server.send-buffer} of the starter sides on either container, on top of their tuning;
 * the control, with the starter disabled, keeps the kernel's)</li>
 * <li>{@code max-minutes} (25 per repetition and container: later runs are skipped after that)</li>
 * </ul>
 */
public final class BenchmarkRunner {

	/** The Tomcat settings applied to the starter side, to reduce the heap held per connection. */
	static final String DEFAULT_TUNING = String.join(" ", "--server.max-http-request-header-size=4KB",
			"--server.tomcat.max-http-response-header-size=1KB",
			"--bench.connector-properties=socket.appReadBufSize=1024,socket.appWriteBufSize=4096");

	/**
	 * Settings of every server. Shutdown is immediate: a graceful one would wait for the control's streams, which
	 * never end by themselves, until the runner kills the JVM.
	 */
	private static final List<String> COMMON_SERVER_ARGS = List.of("--server.address=127.0.0.1",
			"--sisk.sse.ping.enabled=false", "--spring.main.banner-mode=off", "--logging.level.root=WARN",
			"--spring.jmx.enabled=false", "--server.shutdown=immediate");

	private static final String TOMCAT_AUTO_CONFIGURATION = "org.springframework.boot.tomcat.autoconfigure.servlet.TomcatServletWebServerAutoConfiguration";

	private static final String JETTY_AUTO_CONFIGURATION = "org.springframework.boot.jetty.autoconfigure.servlet.JettyServletWebServerAutoConfiguration";

	/** Spring Data Redis's auto-configurations, excluded from the servers that do not use the Redis broker. */
	private static final List<String> REDIS_AUTO_CONFIGURATIONS = List.of(
			"org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration",
			"org.springframework.boot.data.redis.autoconfigure.DataRedisReactiveAutoConfiguration",
			"org.springframework.boot.data.redis.autoconfigure.DataRedisRepositoriesAutoConfiguration",
			"org.springframework.boot.data.redis.autoconfigure.health.DataRedisHealthContributorAutoConfiguration",
			"org.springframework.boot.data.redis.autoconfigure.health.DataRedisReactiveHealthContributorAutoConfiguration",
			"org.springframework.boot.data.redis.autoconfigure.observation.LettuceObservationAutoConfiguration");

	private static final List<String> CONTAINERS = List.of("tomcat", "jetty");

	/** What {@code all} runs: the starter against the control, one server at a time. */
	private static final List<String> SCENARIOS = List.of("connections", "fanout", "throughput", "heap", "stall");

	/**
	 * What {@code cluster} runs: the starter alone, on one instance and on two sharing one Redis (issue "Streams that
	 * span instances"). Not in {@code all}: they need a Redis and several server JVMs per run.
	 */
	private static final List<String> CLUSTER_SCENARIOS = List.of("cross-send", "split-fanout", "reconnect-storm");

	/** The argument that puts a server's log in Redis; {@link #brokerArgs} adds the connection. */
	private static final String REDIS_BROKER = "--sisk.sse.broker=redis";

	private final Map<String, String> options;

	private final int repeat;

	private final long deadline;

	private final Path logs;

	private final List<ServerProcess> running = new ArrayList<>();

	/** metric -> side -> one value per run (NaN when the run could not measure it). */
	private final Map<String, Map<String, List<Double>>> results = new LinkedHashMap<>();

	/** "stall, side, +N stuck" -> the close reasons of each run. */
	private final Map<String, List<String>> closeReasons = new LinkedHashMap<>();

	private final List<String> notes = new ArrayList<>();

	/** The redis-server of the cluster scenarios, started when the first needs it; null until then. */
	private RedisServer redis;

	private int redisPort;

	private BenchmarkRunner(Map<String, String> options) throws IOException {
		this.options = options;
		this.repeat = intOption("repeat", 1);
		int containers = option("containers", "tomcat").split(",").length;
		this.deadline = System.nanoTime()
				+ TimeUnit.MINUTES.toNanos(longOption("max-minutes", 25L * this.repeat * containers));
		Path target = Files.isDirectory(Path.of("benchmarks", "target")) ? Path.of("benchmarks", "target")
				: Path.of("target");
		this.logs = target.resolve("bench-logs");
		Files.createDirectories(this.logs);
	}

	public static void main(String[] args) throws Exception {
		if (args.length > 0 && args[0].equals("log-memory")) {
			LogMemory.main(Arrays.copyOfRange(args, 1, args.length));
			System.exit(0);
		}
		if (args.length > 0 && args[0].equals("redis-throughput")) {
			RedisThroughput.main(Arrays.copyOfRange(args, 1, args.length));
			System.exit(0);
		}
		if (args.length > 0 && args[0].equals("server")) {
			BenchServer.main(Arrays.copyOfRange(args, 1, args.length),
					Long.getLong("bench.max-lifetime-seconds", 1800));
			return;
		}
		Map<String, String> options = new LinkedHashMap<>();
		for (String arg : args) {
			if (!arg.startsWith("--") || !arg.contains("=")) {
				throw new IllegalArgumentException("Expected --name=value, got " + arg);
			}
			options.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
		}
		BenchmarkRunner runner = new BenchmarkRunner(options);
		Runtime.getRuntime().addShutdownHook(new Thread(runner::stopAll));
		try {
			runner.run();
		}
		finally {
			runner.stopAll();
		}
		System.exit(0);
	}

	private String option(String name, String defaultValue) {
		return this.options.getOrDefault(name, defaultValue);
	}

	private long longOption(String name, long defaultValue) {
		return Long.parseLong(option(name, Long.toString(defaultValue)));
	}

	private int intOption(String name, int defaultValue) {
		return Integer.parseInt(option(name, Integer.toString(defaultValue)));
	}

	private static List<String> list(String commaList) {
		return Arrays.stream(commaList.split(",")).map(String::trim).filter((s) -> !s.isEmpty()).toList();
	}

	// ---------------------------------------------------------------- sides

	/**
	 * What one server JVM runs: a variant ({@code starter}, {@code control}, {@code control-tuned},
	 * {@code control-parallel}: the control's send loop split over one thread per core, {@code starter-bigqueue}) on
	 * a container ({@code tomcat}, {@code jetty}).
	 */
	record Side(String variant, String container) {

		Side {
			if (!CONTAINERS.contains(container)) {
				throw new IllegalArgumentException("Unknown container " + container + ", expected one of " + CONTAINERS);
			}
		}

		String name() {
			return this.variant + "-" + this.container;
		}

		boolean control() {
			return this.variant.startsWith("control");
		}

		@Override
		public String toString() {
			return name();
		}

	}

	/** "starter,control" x "tomcat,jetty" -> starter-tomcat, control-tomcat, starter-jetty, control-jetty. */
	private static List<Side> parseSides(List<String> names, List<String> containers) {
		Set<Side> sides = new LinkedHashSet<>();
		for (String container : containers) {
			for (String name : names) {
				String named = CONTAINERS.stream().filter((c) -> name.endsWith("-" + c)).findFirst().orElse(null);
				if (named == null) {
					sides.add(new Side(name, container));
				}
				else if (named.equals(container) || !containers.contains(named)) {
					sides.add(new Side(name.substring(0, name.length() - named.length() - 1), named));
				}
			}
		}
		return new ArrayList<>(sides);
	}

	/** The selected sides, plus the extra variants of some scenarios, each right after the side it varies. */
	private List<Side> sidesFor(String scenario, List<Side> selected) {
		List<Side> sides = new ArrayList<>();
		for (Side side : selected) {
			sides.add(side);
			Side tuned = new Side("control-tuned", side.container());
			if (scenario.equals("heap") && side.variant().equals("control")
					&& Boolean.parseBoolean(option("control-tuned", "true")) && !tuning(tuned).isEmpty()
					&& !selected.contains(tuned)) {
				sides.add(tuned);
			}
			Side bigQueue = new Side("starter-bigqueue", side.container());
			if (scenario.equals("stall") && side.variant().equals("starter")
					&& Boolean.parseBoolean(option("stall-bigqueue", "true")) && !selected.contains(bigQueue)) {
				sides.add(bigQueue);
			}
		}
		return sides;
	}

	/** The container tuning arguments of a side: the starter's, also given to control-tuned. */
	private List<String> tuning(Side side) {
		if (!side.variant().startsWith("starter") && !side.variant().equals("control-tuned")) {
			return List.of();
		}
		String tuning = side.container().equals("tomcat") ? option("tuning", DEFAULT_TUNING)
				: option("jetty-tuning", "");
		return Arrays.stream(tuning.trim().split("\\s+")).filter((arg) -> !arg.isEmpty()).toList();
	}

	/**
	 * The auto-configurations a server excludes: the other container's web server, and Spring Data Redis's unless
	 * the server uses the Redis broker (so that the servers on the default broker are as they were before Spring
	 * Data Redis joined the class path).
	 */
	private static String exclusions(String container, boolean redis) {
		List<String> excluded = new ArrayList<>();
		excluded.add(container.equals("tomcat") ? JETTY_AUTO_CONFIGURATION : TOMCAT_AUTO_CONFIGURATION);
		if (!redis) {
			excluded.addAll(REDIS_AUTO_CONFIGURATIONS);
		}
		return "--spring.autoconfigure.exclude=" + String.join(",", excluded);
	}

	/** Select the container and size it for 20,000 connections. */
	private List<String> containerArgs(String container) {
		if (container.equals("tomcat")) {
			return List.of("--server.tomcat.max-connections=20000");
		}
		// Jetty holds idle async requests without a thread (default pool: 8..200 threads, one selector and one
		// acceptor on 2 cores). Its idle timeout does not end an idle async (SSE) request (checked: streams idle
		// for 3x a 3 s timeout still received a broadcast), but fails a write blocked that long: 60 s, like the
		// write timeout Tomcat applies by default (its connection timeout).
		return List.of("--server.jetty.max-connections=20000",
				"--server.jetty.connection-idle-timeout=" + option("jetty-idle-timeout", "60s"),
				"--bench.jetty.accept-queue-size=100");
	}

	// ---------------------------------------------------------------- running

	private void run() throws Exception {
		List<String> scenarios = new ArrayList<>();
		for (String name : list(option("scenario", "all"))) {
			List<String> named = name.equals("all") ? SCENARIOS
					: name.equals("cluster") ? CLUSTER_SCENARIOS : List.of(name);
			for (String scenario : named) {
				if (!SCENARIOS.contains(scenario) && !CLUSTER_SCENARIOS.contains(scenario)) {
					throw new IllegalArgumentException("Unknown scenario " + scenario
							+ ", expected all, cluster, or one of " + SCENARIOS + " " + CLUSTER_SCENARIOS);
				}
				if (!scenarios.contains(scenario)) {
					scenarios.add(scenario);
				}
			}
		}
		List<Side> sides = parseSides(list(option("sides", "starter,control")),
				list(option("containers", "tomcat")));
		System.out.printf("Benchmark: scenarios %s, sides %s, %d run(s) each, server -Xmx%s, java %s, %d cores%n",
				scenarios, sides, this.repeat, option("xmx", "2g"), System.getProperty("java.version"),
				Runtime.getRuntime().availableProcessors());
		System.out.println("Starter-side Tomcat tuning: " + option("tuning", DEFAULT_TUNING));
		System.out.println("Starter-side Jetty tuning: " + option("jetty-tuning", "(none)")
				+ "; Jetty idle timeout " + option("jetty-idle-timeout", "60s"));
		System.out.println("Starter-side send buffer: " + option("send-buffer", "(the kernel's)"));
		for (String scenario : scenarios) {
			List<Side> scenarioSides = sidesFor(scenario, sides);
			if (CLUSTER_SCENARIOS.contains(scenario)) {
				// Only the starter has a cluster; its baselines (one instance) are measured within the scenario.
				List<Side> skipped = scenarioSides.stream()
					.filter((side) -> !side.variant().equals("starter"))
					.toList();
				scenarioSides = scenarioSides.stream().filter((side) -> side.variant().equals("starter")).toList();
				if (!skipped.isEmpty()) {
					System.out.printf("%n(%s: only the starter side runs, not %s)%n", scenario, skipped);
				}
				if (scenarioSides.isEmpty()) {
					note(scenario + ": no starter side selected, nothing run");
				}
			}
			for (int run = 1; run <= this.repeat; run++) {
				for (Side side : scenarioSides) {
					if (System.nanoTime() > this.deadline) {
						note("skipped " + scenario + "/" + side + " run " + run + ": max-minutes reached");
						continue;
					}
					System.out.printf("%n=== %s / %s%s ===%n", scenario, side,
							(this.repeat > 1) ? " (run " + run + " of " + this.repeat + ")" : "");
					try {
						switch (scenario) {
							case "stall" -> stall(side, run); // a fresh server for each number of stuck clients
							case "cross-send" -> crossSend(side, run);
							case "split-fanout" -> splitFanout(side, run);
							case "reconnect-storm" -> reconnectStorm(side, run);
							default -> runOnFreshServer(scenario, side, run);
						}
					}
					catch (Exception ex) {
						note(scenario + "/" + side + " run " + run + " failed: " + ex);
						ex.printStackTrace(System.out);
					}
				}
			}
		}
		printSummary();
	}

	private void runOnFreshServer(String scenario, Side side, int run) throws Exception {
		ServerProcess server = start(side, scenario, run);
		try (LoadClient client = new LoadClient(server.address, side.variant().charAt(0) + "-")) {
			switch (scenario) {
				case "connections" -> connections(side, server, client);
				case "fanout" -> fanout(side, server, client);
				case "throughput" -> throughput(side, server, client);
				case "heap" -> heap(side, server, client);
				default -> throw new IllegalArgumentException("Unknown scenario " + scenario);
			}
			if (!client.lastError.isEmpty()) {
				System.out.println("  last client error: " + client.lastError);
			}
		}
		finally {
			stop(server);
		}
	}

	// ---------------------------------------------------------------- scenarios

	private void connections(Side side, ServerProcess server, LoadClient client) throws Exception {
		int n = intOption("connections", 19000);
		long start = System.nanoTime();
		client.open(n, false);
		boolean all = awaitWithProgress(() -> client.streaming.get() >= n, client.streaming::get, 180_000, 20_000);
		double openSeconds = (System.nanoTime() - start) / 1e9;
		int held = client.streaming.get();
		System.out.printf("  held %d of %d streams (%s) in %.1f s; failed %d, closed %d%n", held, n,
				all ? "all" : "INCOMPLETE", openSeconds, client.failed.get(), client.closedWhileStreaming.get());
		double helloMillis = -1;
		try {
			Http.Response hello = Http.request(server.address, "GET", "/hello", 10_000);
			helloMillis = (hello.status() == 200) ? hello.millis() : -1;
			System.out.printf("  GET /hello with %d streams open: status %d in %.1f ms%n", held, hello.status(),
					hello.millis());
		}
		catch (IOException ex) {
			System.out.println("  GET /hello with " + held + " streams open: NOT ANSWERED (" + ex + ")");
		}
		System.out.printf("  server RSS %.0f MB%n", server.rssBytes() / 1e6);
		record("connections held (of " + n + ")", side, held);
		record("GET /hello answered while held (ms, -1 = no)", side, helloMillis);
	}

	private void fanout(Side side, ServerProcess server, LoadClient client) throws Exception {
		int rounds = intOption("rounds", 20);
		int opened = 0;
		for (String size : list(option("clients", "1000,10000"))) {
			int n = Integer.parseInt(size);
			client.open(n - opened, false);
			opened = n;
			if (!awaitWithProgress(() -> client.streaming.get() >= n, client.streaming::get, 120_000, 20_000)) {
				note("fanout " + n + "/" + side + ": only " + client.streaming.get() + " streams opened");
			}
			Thread.sleep(500);
			int expected = client.streaming.get();
			FanoutRounds result = fanoutRounds(server.address, client, expected, rounds, server.process().pid());
			double p50 = result.p50();
			double p99 = result.p99();
			double callP50 = percentile(result.callSamples(), 50);
			System.out.printf(
					"  fan-out to %d clients: p50 %.1f ms, p99 %.1f ms; in the server, %s p50 %.2f ms (%d rounds, %d timed out, %d closed)%n",
					expected, p50, p99, side.control() ? "send loop" : "registry.broadcast call", callP50,
					result.samples().size(), result.timeouts(), client.closedWhileStreaming.get());
			// What the round cost the machine: with 2 cores, half the sum is the least time a round can take.
			System.out.printf(
					"  CPU per round: server %.1f ms (%.1f of it in the kernel), load client %.1f ms (together on %d cores: %.1f ms)%n",
					result.serverCpuMillis(), result.serverKernelMillis(), result.clientCpuMillis(),
					Runtime.getRuntime().availableProcessors(),
					(result.serverCpuMillis() + result.clientCpuMillis()) / Runtime.getRuntime().availableProcessors());
			record("fan-out to " + n + " p50 (ms)", side, p50);
			record("fan-out to " + n + " p99 (ms)", side, p99);
			record("fan-out to " + n + ": broadcast call (control: send loop) p50 (ms)", side, callP50);
			record("fan-out to " + n + ": server CPU per round (ms)", side, result.serverCpuMillis());
			record("fan-out to " + n + ": server kernel CPU per round (ms)", side, result.serverKernelMillis());
			record("fan-out to " + n + ": load client CPU per round (ms)", side, result.clientCpuMillis());
		}
	}

	/**
	 * What {@link #fanoutRounds} measured: per round, the time from sending the broadcast to the last client's
	 * receipt of it, and the time inside the server's broadcast call; and the CPU time per measured round of the
	 * server's process (and the part of it in the kernel) and of this one (the load client), NaN where /proc cannot
	 * tell.
	 */
	private record FanoutRounds(List<Double> samples, List<Double> callSamples, int timeouts, double serverCpuMillis,
			double serverKernelMillis, double clientCpuMillis) {

		double p50() {
			return percentile(this.samples, 50);
		}

		double p99() {
			return percentile(this.samples, 99);
		}

	}

	/**
	 * 3 warm-up rounds, then {@code rounds} rounds of {@code POST /broadcast?count=1&size=64} to {@code via}: each
	 * measures the time from sending the POST to the moment the last of the {@code expected} clients received that
	 * event (clients the server closed meanwhile count as done); 30 s at most per round, 50 ms between rounds.
	 * @param serverPid the server whose CPU time to report (the one {@code via} reaches)
	 */
	private static FanoutRounds fanoutRounds(InetSocketAddress via, LoadClient client, int expected, int rounds,
			long serverPid) throws Exception {
		List<Double> samples = new ArrayList<>();
		List<Double> callSamples = new ArrayList<>();
		int timeouts = 0;
		ProcessCpu.@Nullable Times serverCpu = null;
		long clientCpu = 0;
		for (int i = -3; i < rounds; i++) {
			if (i == 0) {
				// After the warm-up; the pauses between rounds cost next to nothing.
				serverCpu = timesOf(serverPid);
				clientCpu = ProcessCpu.ofThisJvm();
			}
			client.expectMore(1);
			Http.Response response = Http.request(via, "POST", "/broadcast?count=1&size=64", 60_000);
			boolean done = LoadClient.await(
					() -> client.reached.get() + client.closedWhileStreaming.get() >= expected, 30_000);
			double millis = (client.lastReachNanos.get() - response.sentNanos()) / 1e6;
			if (!done) {
				timeouts++;
			}
			else if (i >= 0) {
				samples.add(millis);
				callSamples.add(Http.value(response.body(), "callNanos") / 1e6);
			}
			Thread.sleep(50);
		}
		ProcessCpu.Times serverCpuAfter = timesOf(serverPid);
		double clientCpuMillis = (rounds > 0) ? (ProcessCpu.ofThisJvm() - clientCpu) / 1e6 / rounds : Double.NaN;
		return new FanoutRounds(samples, callSamples, timeouts,
				millisPerRound(serverCpu, serverCpuAfter, ProcessCpu.Times::total, rounds),
				millisPerRound(serverCpu, serverCpuAfter, ProcessCpu.Times::system, rounds), clientCpuMillis);
	}

	/** A process's CPU times, or {@code null} where /proc cannot tell. */
	private static ProcessCpu.@Nullable Times timesOf(long pid) {
		try {
			return ProcessCpu.of(pid);
		}
		catch (IOException | RuntimeException ex) {
			return null;
		}
	}

	private static double millisPerRound(ProcessCpu.@Nullable Times before, ProcessCpu.@Nullable Times after,
			ToLongFunction<ProcessCpu.Times> part, int rounds) {
		return (before == null || after == null || rounds <= 0) ? Double.NaN
				: (part.applyAsLong(after) - part.applyAsLong(before)) / 1e6 / rounds;
	}

	private void throughput(Side side, ServerProcess server, LoadClient client) throws Exception {
		int n = intOption("throughput-clients", 10000);
		int events = intOption("events", 100);
		int size = intOption("event-size", 128);
		client.open(n, false);
		awaitWithProgress(() -> client.streaming.get() >= n, client.streaming::get, 120_000, 20_000);
		Thread.sleep(500);
		int expected = client.streaming.get();
		client.expectMore(events);
		long before = client.dataEvents.get();
		long sent = System.nanoTime();
		CompletableFuture<Http.Response> post = postAsync(server,
				"/broadcast?count=" + events + "&size=" + size, 300_000);
		boolean done = LoadClient.await(() -> client.reached.get() + client.closedWhileStreaming.get() >= expected,
				200_000);
		long end = (done && client.reached.get() >= expected) ? client.lastReachNanos.get() : System.nanoTime();
		long delivered = client.dataEvents.get() - before;
		double seconds = (end - sent) / 1e9;
		double rate = delivered / seconds;
		System.out.printf("  %d clients x %d events of %d B: %d delivered in %.2f s = %.0f events/s%s; closed %d; %s%n",
				expected, events, size, delivered, seconds, rate, done ? "" : " (TIMED OUT)",
				client.closedWhileStreaming.get(), describe(post));
		record("delivered events/s (" + n + " x " + events + ")", side, rate);
		if (delivered < (long) expected * events) {
			note("throughput/" + side + ": " + ((long) expected * events - delivered) + " events not delivered");
		}
	}

	private void heap(Side side, ServerProcess server, LoadClient client) throws Exception {
		int n = intOption("idle", 5000);
		Http.Response s0 = Http.request(server.address, "GET", "/stats", 30_000);
		long rss0 = server.rssBytes();
		client.open(n, false);
		awaitWithProgress(() -> client.streaming.get() >= n, client.streaming::get, 120_000, 20_000);
		Thread.sleep(1000 + 1000 * longOption("heap-pause", 0));
		Http.Response s1 = Http.request(server.address, "GET", "/stats", 30_000);
		long rss1 = server.rssBytes();
		int held = client.streaming.get();
		double heapPer = (Http.value(s1.body(), "heap") - Http.value(s0.body(), "heap")) / (double) held;
		double rssPer = (rss1 - rss0) / (double) held;
		System.out.printf("  %d idle streams (server counts %d, %d closed): heap %.1f -> %.1f MB = %.0f B each; RSS %.0f -> %.0f MB = %.0f B each; server threads %d -> %d%n",
				held, Http.value(s1.body(), "connections"), client.closedWhileStreaming.get(),
				Http.value(s0.body(), "heap") / 1e6, Http.value(s1.body(), "heap") / 1e6, heapPer, rss0 / 1e6,
				rss1 / 1e6, rssPer, Http.value(s0.body(), "threads"), Http.value(s1.body(), "threads"));
		if (held < n) {
			note("heap/" + side + ": only " + held + " of " + n + " idle streams held");
		}
		record("heap per idle connection (bytes)", side, heapPer);
		record("RSS per idle connection (bytes)", side, rssPer);
	}

	/**
	 * The healthy clients' time for one burst alone, then beside each number of stuck clients, each on a fresh
	 * server (the server only notices closed idle streams at its next write, so one server cannot be reused).
	 */
	private void stall(Side side, int run) throws Exception {
		List<Integer> stalled = list(option("stalled", "2")).stream().map(Integer::parseInt).toList();
		// One count: 20 clients in all, as this scenario always had (18 + 2 by default); a list: 20 healthy.
		int healthy = intOption("healthy", (stalled.size() == 1) ? 20 - stalled.get(0) : 20);
		if (healthy < 1) {
			throw new IllegalArgumentException("No healthy clients left: give --healthy");
		}
		Set<Integer> stuckCounts = new LinkedHashSet<>();
		stuckCounts.add(0);
		stuckCounts.addAll(stalled);
		double alone = Double.NaN;
		for (int stuck : stuckCounts) {
			if (System.nanoTime() > this.deadline) {
				note("skipped stall/" + side + " with " + stuck + " stuck: max-minutes reached");
				continue;
			}
			ServerProcess server = start(side, "stall-" + stuck + "stuck", run);
			try (LoadClient client = new LoadClient(server.address, side.variant().charAt(0) + "-")) {
				StallResult result = stallPhase(side, server, client, healthy, stuck);
				String label = (stuck == 0) ? "alone" : "+ " + stuck + " stuck";
				String metric = "stall, " + healthy + " healthy " + label + ": ";
				record(metric + "healthy clients' time (s)", side, result.seconds());
				if (stuck == 0) {
					alone = result.seconds();
				}
				else {
					record(metric + "time / time alone", side, result.seconds() / alone);
				}
				record(metric + "server threads before burst", side, result.threadsBefore());
				record(metric + "server threads, peak", side, result.threadsPeak());
				record(metric + "server threads after", side, result.threadsAfter());
				if (stuck > 0) {
					record(metric + "stuck streams still open after", side, result.stuckStillOpen());
				}
				this.closeReasons.computeIfAbsent("stall, " + side + ", " + label, (key) -> new ArrayList<>())
					.add(result.closeReasons());
			}
			finally {
				stop(server);
			}
		}
	}

	/**
	 * What one stall phase measured: the healthy clients' time (NaN when some were closed), the server's live
	 * threads before the burst, at their peak and after it, the stuck streams the server still holds after, and
	 * the close reasons of the sources that ended meanwhile.
	 */
	private record StallResult(double seconds, long threadsBefore, long threadsPeak, long threadsAfter,
			long stuckStillOpen, String closeReasons) {
	}

	/** One burst to {@code healthy} reading clients beside {@code stuck} clients that never read. */
	private StallResult stallPhase(Side side, ServerProcess server, LoadClient client, int healthy, int stuck)
			throws Exception {
		int events = intOption("stall-events", 3000);
		int size = intOption("stall-size", 4096);
		long cap = longOption("stall-timeout", 200) * 1000;
		client.open(healthy, false);
		client.awaitOpened(healthy, 0, 30_000);
		// Warm up (JIT) with a smaller burst before the stuck clients connect.
		int warmup = intOption("stall-warmup-events", 200);
		for (int i = 1; i <= 3 && warmup > 0; i++) {
			client.expectMore(warmup);
			Http.request(server.address, "POST", "/broadcast?count=" + warmup + "&size=" + size, 60_000);
			LoadClient.await(() -> client.reached.get() + client.closedWhileStreaming.get() >= healthy, 30_000);
		}
		if (client.streaming.get() != healthy) {
			note("stall/" + side + ": warm-up closed " + (healthy - client.streaming.get()) + " healthy streams");
		}
		if (stuck > 0) {
			client.open(stuck, true);
			if (!client.awaitOpened(healthy, stuck, 30_000)) {
				note("stall/" + side + ": only " + client.stalledSent.get() + " of " + stuck + " stuck clients connected");
			}
		}
		awaitServerConnections(server, client.streaming.get() + stuck, 20_000);
		Map<String, Long> before = Http.values(stats(server, true), "");
		client.expectMore(events);
		int expected = client.streaming.get();
		int closedBefore = client.closedWhileStreaming.get();
		long delivered0 = client.dataEvents.get();
		long sent = System.nanoTime();
		CompletableFuture<Http.Response> post = postAsync(server, "/broadcast?count=" + events + "&size=" + size,
				(int) cap + 60_000);
		boolean done = LoadClient.await(
				() -> client.reached.get() + client.closedWhileStreaming.get() - closedBefore >= expected, cap);
		long end = (done && client.reached.get() >= expected) ? client.lastReachNanos.get() : System.nanoTime();
		double seconds = (end - sent) / 1e9;
		long delivered = client.dataEvents.get() - delivered0;
		int closed = client.closedWhileStreaming.get() - closedBefore;
		System.out.printf("  %d healthy + %d stuck, %d x %d B: healthy done %s after %.2f s; %d of %d events delivered to the healthy; %d healthy closed by the server; %s%n",
				expected, stuck, events, size,
				!done ? "NOT (TIMED OUT)" : (closed == 0) ? "(all events received)" : "(with some CLOSED)", seconds,
				delivered, (long) expected * events, closed, describe(post));
		// Let the server deal with the stuck clients a little (close them, time out writes) before looking.
		Thread.sleep(1000 * longOption("stall-settle", 5));
		Map<String, Long> after = Http.values(stats(server, false), "");
		long stillOpen = after.getOrDefault("connections", -1L) - client.streaming.get();
		String reasons = side.control() ? "not counted (control)" : closeReasons(before, after);
		System.out.printf("  server threads: %d before the burst, peak %d, %d after; stuck streams still open after %d s: %d of %d; closed sources: %s%n",
				before.getOrDefault("threads", -1L), after.getOrDefault("peakThreads", -1L),
				after.getOrDefault("threads", -1L), longOption("stall-settle", 5), stillOpen, stuck, reasons);
		if (!done) {
			note("stall/" + side + " with " + stuck + " stuck: timed out after " + cap / 1000 + " s");
		}
		if (closed > 0 || delivered < (long) expected * events) {
			note("stall/" + side + " with " + stuck + " stuck: " + closed + " healthy streams closed, "
					+ ((long) expected * events - delivered) + " events not delivered to healthy clients");
		}
		// Healthy clients that were closed did not receive everything: there is no time to compare.
		return new StallResult((closed == 0) ? seconds : Double.NaN, before.getOrDefault("threads", -1L),
				after.getOrDefault("peakThreads", -1L), after.getOrDefault("threads", -1L), stillOpen, reasons);
	}

	/** GET /stats without a GC; {@code resetPeak} restarts the server's peak thread count. */
	private static String stats(ServerProcess server, boolean resetPeak) {
		try {
			return Http.request(server.address, "GET", "/stats?gc=false&resetPeak=" + resetPeak, 10_000).body();
		}
		catch (IOException ex) {
			return "";
		}
	}

	/** "stuck.QUEUE_OVERFLOW=38 healthy.SEND_FAILED=1" for the sources closed between the two /stats. */
	private static String closeReasons(Map<String, Long> before, Map<String, Long> after) {
		String reasons = after.entrySet()
			.stream()
			.filter((entry) -> entry.getKey().startsWith("closed."))
			.map((entry) -> Map.entry(entry.getKey().substring("closed.".length()),
					entry.getValue() - before.getOrDefault(entry.getKey(), 0L)))
			.filter((entry) -> entry.getValue() > 0)
			.map((entry) -> entry.getKey() + "=" + entry.getValue())
			.collect(Collectors.joining(" "));
		if (reasons.isEmpty()) {
			return after.containsKey("threads") ? "none" : "(no /stats answer)";
		}
		return reasons;
	}

	// ---------------------------------------------------------------- scenarios on several instances (Redis)

	/**
	 * Send on instance B to a client on instance A, against a send on A itself. {@code cross-clients} identified
	 * clients connect to A; then, after {@code cross-warmup} rounds that are not counted, {@code cross-rounds}
	 * rounds, one send each, alternately {@code POST /send} to B (cross) and to A (local) for one identifier, with
	 * a sequence number in its data: the time from sending the POST to the event's arrival at the client, both
	 * read on this JVM's {@code System.nanoTime}. First the same rounds, all local, on one instance with the
	 * default in-memory log, for reference.
	 */
	private void crossSend(Side side, int run) throws Exception {
		Map<String, List<Double>> memory = onCluster(side, run, "cross-send-memory", false, 1,
				(servers) -> sendRounds(servers.get(0).address, List.of(servers.get(0).address), List.of("local")));
		Map<String, List<Double>> redis = onCluster(side, run, "cross-send-redis", true, 2,
				(servers) -> sendRounds(servers.get(0).address, List.of(servers.get(1).address, servers.get(0).address),
						List.of("cross", "local")));
		double memoryP50 = percentile(memory.get("local"), 50);
		double localP50 = percentile(redis.get("local"), 50);
		double crossP50 = percentile(redis.get("cross"), 50);
		System.out.printf(Locale.ROOT,
				"  send -> receive p50: %.2f ms local (memory, one instance), %.2f ms local (Redis, A -> A), %.2f ms cross (Redis, B -> A): %.2f ms added by the other instance%n",
				memoryP50, localP50, crossP50, crossP50 - localP50);
		String metric = "cross-send, " + intOption("cross-clients", 100) + " clients on A: ";
		record(metric + "local p50, one instance, memory (ms)", side, memoryP50);
		record(metric + "local p99, one instance, memory (ms)", side, percentile(memory.get("local"), 99));
		record(metric + "local A -> A p50, Redis (ms)", side, localP50);
		record(metric + "local A -> A p99, Redis (ms)", side, percentile(redis.get("local"), 99));
		record(metric + "cross B -> A p50, Redis (ms)", side, crossP50);
		record(metric + "cross B -> A p99, Redis (ms)", side, percentile(redis.get("cross"), 99));
		record(metric + "added p50, cross - local on Redis (ms; issue: <= 5)", side, crossP50 - localP50);
		record(metric + "cross on Redis - local on memory, p50 (ms)", side, crossP50 - memoryP50);
		record(metric + "sends not arrived within " + intOption("cross-timeout", 5000) + " ms (left out above)", side,
				Stream.concat(memory.values().stream(), redis.values().stream())
					.flatMap(List::stream)
					.filter((millis) -> millis.isNaN())
					.count());
	}

	/**
	 * The rounds of {@link #crossSend} on servers already started: clients connect to {@code clientsOn}; round
	 * {@code i} sends through {@code via.get(i % via.size())}, named by {@code names}.
	 * @return per name, the send-to-receive times in milliseconds (NaN for a send that did not arrive in time)
	 */
	private Map<String, List<Double>> sendRounds(InetSocketAddress clientsOn, List<InetSocketAddress> via,
			List<String> names) throws Exception {
		int n = intOption("cross-clients", 100);
		int warmup = intOption("cross-warmup", 40);
		int rounds = intOption("cross-rounds", 200);
		long spacing = longOption("cross-spacing", 5);
		int timeout = intOption("cross-timeout", 5000);
		int size = intOption("cross-size", 64);
		long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(longOption("cross-max-seconds", 120));
		Map<String, List<Double>> times = new LinkedHashMap<>();
		names.forEach((name) -> times.put(name, new ArrayList<>()));
		try (LoadClient client = new LoadClient(clientsOn, "s-")) {
			client.open(n, false);
			if (!awaitWithProgress(() -> client.streaming.get() >= n, client.streaming::get, 60_000, 20_000)) {
				note("cross-send: only " + client.streaming.get() + " of " + n + " clients connected");
			}
			List<String> ids = client.identifiers();
			if (ids.isEmpty()) {
				throw new IllegalStateException("No client connected");
			}
			client.trackArrivals(true);
			int missed = 0;
			int done = 0;
			for (int i = -warmup; i < rounds; i++) {
				if (System.nanoTime() > giveUp) {
					note("cross-send: stopped after " + done + " of " + rounds + " rounds (cross-max-seconds)");
					break;
				}
				int k = i + warmup;
				long seq = k + 1;
				String id = ids.get((k / via.size()) % ids.size());
				InetSocketAddress server = via.get(k % via.size());
				Http.Response response = Http.request(server, "POST",
						"/send?id=" + id + "&seq=" + seq + "&size=" + size, 10_000);
				if (response.status() != 200) {
					throw new IllegalStateException(
							"POST /send answered " + response.status() + ": " + response.body());
				}
				boolean arrived = LoadClient.await(() -> client.arrivals().containsKey(seq), timeout);
				if (i >= 0) {
					done++;
					double millis = arrived ? (client.arrivals().get(seq) - response.sentNanos()) / 1e6 : Double.NaN;
					times.get(names.get(k % via.size())).add(millis);
					missed += arrived ? 0 : 1;
				}
				Thread.sleep(spacing);
			}
			StringBuilder line = new StringBuilder();
			times.forEach((name, values) -> line.append(String.format(Locale.ROOT, "%s p50 %.2f ms, p99 %.2f ms (%d); ",
					name, percentile(values, 50), percentile(values, 99), values.size())));
			System.out.printf("  %d clients, %d rounds: %s%d not arrived within %d ms, %d closed%n", ids.size(), done,
					line, missed, timeout, client.closedWhileStreaming.get());
			if (missed > 0) {
				note("cross-send: " + missed + " sends did not arrive within " + timeout + " ms");
			}
		}
		return times;
	}

	/**
	 * Broadcast to {@code split-clients} clients (default 10,000) split over two instances sharing one Redis, half
	 * on each, through instance A, against the same number on one instance: with the Redis log, and with the
	 * default in-memory log. Each measured as {@code fanout} does ({@link #fanoutRounds}: the time until the last
	 * client received the event, p50 and p99 over {@code rounds} rounds), on fresh servers, one load client
	 * (one I/O thread) in every case.
	 */
	private void splitFanout(Side side, int run) throws Exception {
		int n = intOption("split-clients", 10000);
		FanoutRounds memory = onCluster(side, run, "split-fanout-memory", false, 1,
				(servers) -> splitRounds(servers, n));
		FanoutRounds one = onCluster(side, run, "split-fanout-redis-one", true, 1,
				(servers) -> splitRounds(servers, n));
		FanoutRounds two = onCluster(side, run, "split-fanout-redis-two", true, 2,
				(servers) -> splitRounds(servers, n));
		String metric = "split-fanout to " + n + ": ";
		record(metric + "one instance, memory, p50 (ms)", side, memory.p50());
		record(metric + "one instance, memory, p99 (ms)", side, memory.p99());
		record(metric + "one instance, Redis, p50 (ms)", side, one.p50());
		record(metric + "one instance, Redis, p99 (ms)", side, one.p99());
		record(metric + "two instances, Redis, p50 (ms)", side, two.p50());
		record(metric + "two instances, Redis, p99 (ms)", side, two.p99());
		record(metric + "two / one instance, Redis, p50 (issue: <= 1.3)", side, two.p50() / one.p50());
		record(metric + "two instances Redis / one instance memory, p50", side, two.p50() / memory.p50());
		System.out.printf(Locale.ROOT,
				"  p50: one instance %.1f ms (memory), %.1f ms (Redis); two instances %.1f ms: %.2fx one instance on Redis, %.2fx on memory%n",
				memory.p50(), one.p50(), two.p50(), two.p50() / one.p50(), two.p50() / memory.p50());
	}

	/** {@code n} clients spread evenly over the servers, then {@link #fanoutRounds} through the first. */
	private FanoutRounds splitRounds(List<ServerProcess> servers, int n) throws Exception {
		int rounds = intOption("rounds", 20);
		try (LoadClient client = new LoadClient(servers.get(0).address, "s-")) {
			for (int i = 0; i < servers.size(); i++) {
				int count = n / servers.size() + ((i < n % servers.size()) ? 1 : 0);
				client.open(count, false, servers.get(i).address);
			}
			if (!awaitWithProgress(() -> client.streaming.get() >= n, client.streaming::get, 120_000, 20_000)) {
				note("split-fanout " + servers.size() + " instance(s): only " + client.streaming.get() + " of " + n
						+ " streams opened");
			}
			Thread.sleep(500);
			int expected = client.streaming.get();
			FanoutRounds result = fanoutRounds(servers.get(0).address, client, expected, rounds,
					servers.get(0).process().pid());
			System.out.printf(Locale.ROOT,
					"  fan-out to %d clients on %d instance(s): p50 %.1f ms, p99 %.1f ms; broadcast call p50 %.2f ms (%d rounds, %d timed out, %d closed)%n",
					expected, servers.size(), result.p50(), result.p99(), percentile(result.callSamples(), 50),
					result.samples().size(), result.timeouts(), client.closedWhileStreaming.get());
			return result;
		}
	}

	/**
	 * Many clients resuming at once with {@code Last-Event-ID}, each owed missed events, against as many fresh
	 * connects; on one instance, with replay on, for each of {@code storm-brokers} (memory, redis). Each of the two
	 * runs on a server of its own, through the same steps: {@code storm-clients} (10,000) identified clients
	 * connect; one event reaches each (so that it has an id); the client resets them all; {@code storm-events}
	 * (20) events are sent that each of them misses; once the server has noticed every disconnection (its
	 * connection count is 0), either the same clients reconnect, all queued at once, each with its last id
	 * ("resume"), or as many new clients connect, without one ("fresh"). Resume: the time from queueing the
	 * reconnections until every client has all its missed events, checked to be exactly those, each once and in
	 * order. Fresh: the time until every client got its response headers. Both servers are equally warm.
	 * <p>
	 * The missed events are {@code storm-owed=broadcast} (default): that many broadcasts, within the default replay
	 * bounds; or {@code send}: that many {@code registry.send} to each identifier, for which the servers get
	 * {@code sisk.sse.replay.max-events} and {@code max-bytes} raised to hold them all.
	 */
	private void reconnectStorm(Side side, int run) throws Exception {
		int n = intOption("storm-clients", 10000);
		int owed = intOption("storm-events", 20);
		for (String broker : list(option("storm-brokers", "memory,redis"))) {
			if (!broker.equals("memory") && !broker.equals("redis")) {
				throw new IllegalArgumentException("Unknown broker " + broker + ", expected memory or redis");
			}
			boolean redis = broker.equals("redis");
			List<String> args = stormArgs(n, owed);
			StormResult fresh = onCluster(side, run, "reconnect-storm-" + broker + "-fresh", redis, 1, args,
					(servers) -> storm(servers.get(0), n, owed, false));
			StormResult resume = onCluster(side, run, "reconnect-storm-" + broker + "-resume", redis, 1, args,
					(servers) -> storm(servers.get(0), n, owed, true));
			String metric = "reconnect-storm, " + n + " clients, " + broker + ": ";
			record(metric + "fresh connects, all connected (s)", side, fresh.connectedSeconds());
			record(metric + "resume, all reconnected (s)", side, resume.connectedSeconds());
			record(metric + "resume, all have their " + owed + " missed events (s)", side, resume.receivedSeconds());
			record(metric + "resume (all events) / fresh connects", side,
					resume.receivedSeconds() / fresh.connectedSeconds());
			record(metric + "clients without exactly their " + owed + " missed events, once, in order", side,
					resume.failures());
			System.out.printf(Locale.ROOT, "  %s: resume %.2f s (all reconnected after %.2f s) against fresh connects %.2f s: %.2fx; %d clients failed%n",
					broker, resume.receivedSeconds(), resume.connectedSeconds(), fresh.connectedSeconds(),
					resume.receivedSeconds() / fresh.connectedSeconds(), (long) resume.failures());
		}
	}

	/**
	 * What one storm measured: the time until every client got its response headers, until every client got its
	 * missed events (resume only; NaN when not all did), and the clients that did not get exactly those.
	 */
	private record StormResult(double connectedSeconds, double receivedSeconds, double failures) {
	}

	/** One run of {@link #reconnectStorm}'s steps on one server. */
	private StormResult storm(ServerProcess server, int n, int owed, boolean resume) throws Exception {
		boolean perStream = option("storm-owed", "broadcast").equals("send");
		int size = intOption("event-size", 128);
		long cap = longOption("storm-timeout", 180) * 1000;
		String phase = resume ? "resume" : "fresh";
		try (LoadClient client = new LoadClient(server.address, "s-")) {
			client.open(n, false);
			if (!awaitWithProgress(() -> client.streaming.get() >= n, client.streaming::get, 120_000, 20_000)) {
				note("reconnect-storm " + phase + ": only " + client.streaming.get() + " of " + n + " connected");
			}
			int connected = client.streaming.get();
			client.expectMore(1);
			Http.request(server.address, "POST",
					perStream ? "/send-each?prefix=s-&streams=" + n + "&first=1&count=1&size=" + size
							: "/broadcast?count=1&size=" + size,
					60_000);
			if (!LoadClient.await(() -> client.reached.get() >= connected, 30_000)) {
				note("reconnect-storm " + phase + ": only " + client.reached.get() + " of " + connected
						+ " got the first event");
			}
			int held = client.disconnectAll();
			Http.Response owing = Http.request(server.address, "POST",
					perStream ? "/send-each?prefix=s-&streams=" + n + "&first=2&count=" + owed + "&size=" + size
							: "/broadcast?count=" + owed + "&size=" + size,
					300_000);
			// Writing the owed events to the reset connections is what makes the server notice them all.
			awaitServerConnections(server, 0, 30_000);
			Thread.sleep(500);
			long start = System.nanoTime();
			if (resume) {
				client.reconnect(owed);
			}
			else {
				client.open(held, false);
			}
			boolean connectedAll = awaitWithProgress(() -> client.streaming.get() >= held, client.streaming::get, cap,
					20_000);
			double connectedSeconds = connectedAll ? (client.lastStreamingNanos.get() - start) / 1e9 : Double.NaN;
			if (!resume) {
				System.out.printf(Locale.ROOT, "  %d fresh clients (no Last-Event-ID) connected %s in %.2f s; failed %d%n",
						held, connectedAll ? "all" : "NOT ALL (" + client.streaming.get() + ")",
						connectedAll ? connectedSeconds : (System.nanoTime() - start) / 1e9, client.failed.get());
				if (!connectedAll) {
					note("reconnect-storm fresh: only " + client.streaming.get() + " of " + held + " connected");
				}
				return new StormResult(connectedSeconds, Double.NaN, Double.NaN);
			}
			long remaining = Math.max(1000, cap - (System.nanoTime() - start) / 1_000_000);
			boolean all = awaitWithProgress(() -> client.reached.get() >= held, client.reached::get, remaining, 20_000);
			double receivedSeconds = all ? (client.lastReachNanos.get() - start) / 1e9 : Double.NaN;
			// Anything more (a duplicate) would come at once: look a little later.
			Thread.sleep(1000);
			LoadClient.Tally tally = client.tally();
			int failures = held - tally.exactlyInOrder();
			double elapsed = (System.nanoTime() - start) / 1e9;
			System.out.printf(Locale.ROOT,
					"  %d clients resumed with Last-Event-ID: %s after %.2f s, their %d missed events %s after %.2f s; "
							+ "clients with exactly those, once, in order: %d; with fewer %d, more %d, out of order %d; "
							+ "named (reset) events %d; clients not open %d; owed by %s (%s)%n",
					held, connectedAll ? "all reconnected" : "NOT all reconnected",
					connectedAll ? connectedSeconds : elapsed, owed, all ? "all received" : "NOT ALL received",
					all ? receivedSeconds : elapsed, tally.exactlyInOrder(), tally.fewer(), tally.more(),
					tally.disordered(), client.namedEvents.get(), held - tally.connections(),
					perStream ? "per-stream sends" : "broadcasts", owing.body().replace('\n', ' ').trim());
			if (failures > 0 || !all) {
				note("reconnect-storm resume: " + failures + " of " + held
						+ " clients did not get exactly their missed events once and in order"
						+ (all ? "" : " (timed out)"));
			}
			return new StormResult(connectedSeconds, receivedSeconds, failures);
		}
	}

	/** The server arguments of the storm: replay on, with bounds that hold what is owed. */
	private List<String> stormArgs(int n, int owed) {
		List<String> args = new ArrayList<>();
		args.add("--sisk.sse.replay.enabled=true");
		if (option("storm-owed", "broadcast").equals("send")) {
			long entries = (long) n * (owed + 1) + 1000;
			long bytes = Math.max(16L << 20, entries * (intOption("event-size", 128) + 256));
			args.add("--sisk.sse.replay.max-events=" + entries);
			args.add("--sisk.sse.replay.max-bytes=" + bytes + "B");
		}
		return args;
	}

	/** Something measured on servers started for it. */
	private interface OnServers<T> {

		T run(List<ServerProcess> servers) throws Exception;

	}

	private <T> T onCluster(Side side, int run, String label, boolean redis, int count, OnServers<T> measurement)
			throws Exception {
		return onCluster(side, run, label, redis, count, List.of(), measurement);
	}

	/**
	 * Start {@code count} starter servers of the side, one after the other (with the Redis broker, on an emptied
	 * Redis), run the measurement on them, and stop them all.
	 * @param extraArgs more server arguments, after the broker's
	 */
	private <T> T onCluster(Side side, int run, String label, boolean redis, int count, List<String> extraArgs,
			OnServers<T> measurement) throws Exception {
		List<String> args = new ArrayList<>(brokerArgs(redis));
		args.addAll(extraArgs);
		if (redis) {
			flushRedis();
		}
		System.out.printf("  -- %s: %d instance(s), %s log%n", label, count, redis ? "Redis" : "in-memory");
		List<ServerProcess> servers = new ArrayList<>();
		try {
			for (int i = 0; i < count; i++) {
				servers.add(start(side, label + ((count > 1) ? "-" + (char) ('A' + i) : ""), run, args));
			}
			return measurement.run(servers);
		}
		finally {
			servers.forEach(this::stop);
		}
	}

	/** The Redis broker's arguments, on the runner's redis-server; none for the default, in-memory log. */
	private List<String> brokerArgs(boolean redis) throws IOException {
		if (!redis) {
			return List.of();
		}
		return List.of(REDIS_BROKER, "--spring.data.redis.url=redis://127.0.0.1:" + redisPort(),
				"--spring.data.redis.timeout=2s");
	}

	/**
	 * The port of the runner's redis-server (7.0.15, from the embedded-redis dependency) on 127.0.0.1, without
	 * persistence; started on the first call.
	 */
	private synchronized int redisPort() throws IOException {
		if (this.redis == null) {
			int port = LocalRedis.freePort();
			this.redis = LocalRedis.start(port);
			this.redisPort = port;
			System.out.println("  redis-server (embedded-redis) on 127.0.0.1:" + port);
		}
		return this.redisPort;
	}

	/** Empty the runner's Redis (FLUSHALL), so that a run starts from no log at all. */
	private void flushRedis() throws IOException {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress("127.0.0.1", redisPort()), 5000);
			socket.setSoTimeout(10_000);
			socket.getOutputStream().write("*1\r\n$8\r\nFLUSHALL\r\n".getBytes(StandardCharsets.US_ASCII));
			String reply = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII))
				.readLine();
			if (!"+OK".equals(reply)) {
				throw new IOException("FLUSHALL answered " + reply);
			}
		}
	}

	private synchronized void stopRedis() {
		if (this.redis != null) {
			try {
				this.redis.stop();
			}
			catch (RuntimeException ex) {
				System.out.println("  (stopping redis-server: " + ex + ")");
			}
			this.redis = null;
		}
	}

	// ---------------------------------------------------------------- helpers

	private static CompletableFuture<Http.Response> postAsync(ServerProcess server, String path, int timeoutMillis) {
		CompletableFuture<Http.Response> result = new CompletableFuture<>();
		Thread thread = new Thread(() -> {
			try {
				result.complete(Http.request(server.address, "POST", path, timeoutMillis));
			}
			catch (Throwable ex) {
				result.completeExceptionally(ex);
			}
		}, "post");
		thread.setDaemon(true);
		thread.start();
		return result;
	}

	private static String describe(CompletableFuture<Http.Response> post) {
		try {
			Http.Response response = post.get(5, TimeUnit.SECONDS);
			return String.format("POST returned %d after %.2f s (%s)", response.status(), response.millis() / 1000,
					response.body().replace("\r\n", " ").replace('\n', ' ').trim());
		}
		catch (Exception ex) {
			return "POST not returned: " + ex.getClass().getSimpleName();
		}
	}

	/** Wait for the condition, giving up when the counter has not moved for {@code idleMillis}. */
	private static boolean awaitWithProgress(BooleanSupplier condition, IntSupplier progress, long timeoutMillis,
			long idleMillis) throws InterruptedException {
		long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
		int last = -1;
		long lastChange = System.nanoTime();
		while (System.nanoTime() < end) {
			if (LoadClient.await(condition, 1000)) {
				return true;
			}
			int now = progress.getAsInt();
			if (now != last) {
				last = now;
				lastChange = System.nanoTime();
			}
			else if (System.nanoTime() - lastChange > TimeUnit.MILLISECONDS.toNanos(idleMillis)) {
				return false;
			}
		}
		return false;
	}

	private static void awaitServerConnections(ServerProcess server, int expected, long timeoutMillis)
			throws Exception {
		long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
		long count = -1;
		while (System.nanoTime() < end) {
			count = Http.value(Http.request(server.address, "GET", "/stats?gc=false", 10_000).body(), "connections");
			if (count == expected) {
				return;
			}
			Thread.sleep(100);
		}
		System.out.println("  (server counts " + count + " connections, expected " + expected + ")");
	}

	private static double percentile(List<Double> samples, int percentile) {
		List<Double> sorted = samples.stream().filter((value) -> !value.isNaN()).sorted().toList();
		if (sorted.isEmpty()) {
			return Double.NaN;
		}
		int index = (int) Math.ceil(percentile / 100.0 * sorted.size()) - 1;
		return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
	}

	private void record(String metric, Side side, double value) {
		this.results.computeIfAbsent(metric, (key) -> new LinkedHashMap<>())
			.computeIfAbsent(side.name(), (key) -> new ArrayList<>())
			.add(value);
	}

	private void note(String note) {
		System.out.println("  NOTE: " + note);
		this.notes.add(note);
	}

	// ---------------------------------------------------------------- summary

	/**
	 * One Markdown table: per metric and side the median of the runs, with min..max when there were several; per
	 * container the ratio of the medians starter / control. Then the cross-container heap ratios, the close
	 * reasons of the stall runs and the notes.
	 */
	private void printSummary() {
		List<String> sides = new ArrayList<>();
		this.results.values().forEach((values) -> values.keySet().forEach((side) -> {
			if (!sides.contains(side)) {
				sides.add(side);
			}
		}));
		List<String> ratioContainers = CONTAINERS.stream()
			.filter((c) -> sides.contains("starter-" + c) && sides.contains("control-" + c))
			.toList();
		List<String> header = new ArrayList<>();
		header.add("metric");
		header.addAll(sides);
		ratioContainers.forEach((c) -> header.add("starter / control, " + c));
		List<List<String>> rows = new ArrayList<>();
		for (Map.Entry<String, Map<String, List<Double>>> entry : this.results.entrySet()) {
			Map<String, List<Double>> values = entry.getValue();
			List<String> row = new ArrayList<>();
			row.add(entry.getKey());
			sides.forEach((side) -> row.add(cell(values.get(side))));
			ratioContainers.forEach((c) -> row.add(isCount(entry.getKey()) ? ""
					: ratio(values.get("starter-" + c), values.get("control-" + c))));
			rows.add(row);
		}
		System.out.printf("%n=== Summary: %s; ratio = median starter / median control on the same container ===%n%n",
				(this.repeat > 1) ? "median of " + this.repeat + " runs (min..max)" : "one run");
		printMarkdown(header, rows);
		Map<String, List<Double>> heap = this.results.get("heap per idle connection (bytes)");
		if (heap != null) {
			System.out.println();
			printHeapRatio(heap, "starter-tomcat", "control-tuned-tomcat", "");
			printHeapRatio(heap, "starter-jetty", "control-tomcat", " (issue target <= 0.15)");
			printHeapRatio(heap, "control-jetty", "control-tomcat", "");
		}
		if (!this.closeReasons.isEmpty()) {
			System.out.println();
			System.out.println("Sources closed by the server during and " + longOption("stall-settle", 5)
					+ " s after each stall burst (starter sides; group.REASON=count), per run:");
			this.closeReasons.forEach((label, runs) -> System.out.println("- " + label + ": " + String.join(" | ", runs)));
		}
		for (String note : this.notes) {
			System.out.println("NOTE: " + note);
		}
	}

	/** Rows that count threads, streams or clients: a ratio starter / control says nothing there. */
	private static boolean isCount(String metric) {
		return metric.contains("threads") || metric.contains("still open") || metric.contains("clients without")
				|| metric.contains("not arrived");
	}

	private void printHeapRatio(Map<String, List<Double>> heap, String side, String base, String target) {
		if (heap.containsKey(side) && heap.containsKey(base)) {
			System.out.printf(Locale.ROOT, "heap per idle connection, %s / %s: %s%s%n", side, base,
					ratio(heap.get(side), heap.get(base)), target);
		}
	}

	private static void printMarkdown(List<String> header, List<List<String>> rows) {
		int[] widths = new int[header.size()];
		for (List<String> row : concat(header, rows)) {
			for (int i = 0; i < row.size(); i++) {
				widths[i] = Math.max(widths[i], row.get(i).length());
			}
		}
		List<String> rule = new ArrayList<>();
		for (int i = 0; i < widths.length; i++) {
			rule.add((i == 0) ? "-".repeat(widths[i]) : "-".repeat(widths[i] - 1) + ":");
		}
		System.out.println(markdownRow(header, widths));
		System.out.println(markdownRow(rule, widths));
		rows.forEach((row) -> System.out.println(markdownRow(row, widths)));
	}

	private static List<List<String>> concat(List<String> header, List<List<String>> rows) {
		List<List<String>> all = new ArrayList<>();
		all.add(header);
		all.addAll(rows);
		return all;
	}

	private static String markdownRow(List<String> cells, int[] widths) {
		StringBuilder line = new StringBuilder("|");
		for (int i = 0; i < cells.size(); i++) {
			String cell = cells.get(i);
			String pad = " ".repeat(widths[i] - cell.length());
			line.append(' ').append((i == 0) ? cell + pad : pad + cell).append(" |");
		}
		return line.toString();
	}

	/** "0.430 (0.410..0.450)"; runs that could not measure (NaN) are left out and counted. */
	private static String cell(List<Double> values) {
		if (values == null || values.isEmpty()) {
			return "-";
		}
		List<Double> measured = values.stream().filter((value) -> !value.isNaN()).sorted().toList();
		String missing = (measured.size() < values.size())
				? " [" + (values.size() - measured.size()) + " of " + values.size() + " n/a]" : "";
		if (measured.isEmpty()) {
			return "n/a" + missing;
		}
		String median = format(median(measured));
		if (measured.size() == 1) {
			return median + missing;
		}
		return median + " (" + format(measured.get(0)) + ".." + format(measured.get(measured.size() - 1)) + ")"
				+ missing;
	}

	private static String ratio(List<Double> numerator, List<Double> denominator) {
		double n = median(numerator);
		double d = median(denominator);
		return (Double.isNaN(n) || Double.isNaN(d) || d == 0) ? "-" : String.format(Locale.ROOT, "%.3f", n / d);
	}

	private static double median(List<Double> values) {
		if (values == null) {
			return Double.NaN;
		}
		List<Double> sorted = values.stream().filter((value) -> !value.isNaN()).sorted().toList();
		if (sorted.isEmpty()) {
			return Double.NaN;
		}
		int mid = sorted.size() / 2;
		return (sorted.size() % 2 == 1) ? sorted.get(mid) : (sorted.get(mid - 1) + sorted.get(mid)) / 2;
	}

	private static String format(double value) {
		return (Math.abs(value) >= 100 || value == Math.rint(value)) ? String.format(Locale.ROOT, "%.0f", value)
				: String.format(Locale.ROOT, "%.3f", value);
	}

	// ---------------------------------------------------------------- server processes

	private ServerProcess start(Side side, String scenario, int run) throws Exception {
		return start(side, scenario, run, List.of());
	}

	/**
	 * Start a server JVM for the side and wait until it answers {@code GET /hello} (at most 90 s).
	 * @param label names its log file, with the side and run
	 * @param extraArgs more arguments, after the side's own (the Redis broker's, say)
	 */
	private ServerProcess start(Side side, String label, int run, List<String> extraArgs) throws Exception {
		int port = LocalRedis.freePort();
		List<String> command = new ArrayList<>();
		command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
		command.add("-Xmx" + option("xmx", "2g"));
		command.add("-Dbench.max-lifetime-seconds=" + Math.max(60,
				TimeUnit.NANOSECONDS.toSeconds(this.deadline - System.nanoTime()) + 600));
		String classPath = System.getProperty("java.class.path");
		if (classPath.endsWith(".jar") && !classPath.contains(java.io.File.pathSeparator)) {
			command.add("-jar");
			command.add(classPath);
		}
		else {
			command.add("-cp");
			command.add(classPath);
			command.add(BenchmarkRunner.class.getName());
		}
		command.add("server");
		command.add("--bench.mode=" + (side.control() ? "control" : "starter"));
		command.add("--server.port=" + port);
		command.addAll(COMMON_SERVER_ARGS);
		command.add(exclusions(side.container(), extraArgs.contains(REDIS_BROKER)));
		command.addAll(containerArgs(side.container()));
		if (side.control()) {
			command.add("--sisk.sse.enabled=false");
		}
		if (side.variant().equals("control-parallel")) {
			command.add("--bench.control-threads=" + Runtime.getRuntime().availableProcessors());
		}
		if (side.variant().equals("starter-bigqueue")) {
			// A queue that holds the whole burst, so that healthy clients are not closed for overflow.
			command.add("--sisk.sse.queue.max-bytes=" + option("bigqueue-max-bytes", "16MB"));
			command.add("--sisk.sse.queue.max-events=" + option("bigqueue-max-events", "4000"));
		}
		command.addAll(tuning(side));
		if (side.variant().startsWith("starter") && this.options.containsKey("send-buffer")) {
			command.add("--sisk.sse.server.send-buffer=" + option("send-buffer", ""));
		}
		command.addAll(extraArgs);
		Path log = this.logs.resolve(label + "-" + side + ((this.repeat > 1) ? "-run" + run : "") + ".log");
		Process process = new ProcessBuilder(command).redirectErrorStream(true)
			.redirectOutput(log.toFile())
			.start();
		ServerProcess server = new ServerProcess(process, new InetSocketAddress("127.0.0.1", port));
		this.running.add(server);
		String webServer = side.container().equals("tomcat") ? "Tomcat" : "Jetty"; // e.g. JettyServletWebServer
		long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
		while (System.nanoTime() < end) {
			if (!process.isAlive()) {
				throw new IllegalStateException("Server exited with " + process.exitValue() + ", see " + log);
			}
			try {
				Http.Response hello = Http.request(server.address, "GET", "/hello", 2000);
				if (hello.status() == 200) {
					if (!hello.body().contains(webServer)) {
						stop(server);
						throw new IllegalStateException("Expected " + webServer + ", the server says " + hello.body());
					}
					System.out.printf("  server %s pid %d on port %d, log %s%n", side, process.pid(), port, log);
					return server;
				}
			}
			catch (IOException ex) {
				// not up yet
			}
			Thread.sleep(200);
		}
		stop(server);
		throw new IllegalStateException("Server did not start within 90 s, see " + log);
	}

	private void stop(ServerProcess server) {
		Process process = server.process;
		process.destroy();
		try {
			if (!process.waitFor(15, TimeUnit.SECONDS)) {
				process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
			}
		}
		catch (InterruptedException ex) {
			process.destroyForcibly();
			Thread.currentThread().interrupt();
		}
		this.running.remove(server);
	}

	private synchronized void stopAll() {
		for (ServerProcess server : new ArrayList<>(this.running)) {
			server.process.destroyForcibly();
		}
		stopRedis();
	}

	private record ServerProcess(Process process, InetSocketAddress address) {

		long rssBytes() {
			try {
				for (String line : Files.readAllLines(Path.of("/proc", Long.toString(this.process.pid()), "status"))) {
					if (line.startsWith("VmRSS:")) {
						return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
					}
				}
			}
			catch (IOException | RuntimeException ex) {
				// not Linux, or the process is gone
			}
			return -1;
		}

	}

}
