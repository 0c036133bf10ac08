package io.github.sisksse.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
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
import java.util.stream.Collectors;

/**
 * Runs the benchmark: for each scenario and each side (starter or control, on Tomcat or Jetty), starts the bench
 * server as a separate JVM, measures, stops it, and finally prints every side and the ratios starter/control as a
 * Markdown table. See docs/performance.md. With the first argument {@code server}, runs the server instead (that is
 * how the runner starts it).
 * <p>
 * Options ({@code --name=value}):
 * <ul>
 * <li>{@code scenario}: all, or a comma list of connections, fanout, throughput, heap, stall</li>
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

	private static final List<String> CONTAINERS = List.of("tomcat", "jetty");

	private static final List<String> SCENARIOS = List.of("connections", "fanout", "throughput", "heap", "stall");

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
	 * {@code starter-bigqueue}) on a container ({@code tomcat}, {@code jetty}).
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

	/** Select the container and size it for 20,000 connections. */
	private List<String> containerArgs(String container) {
		if (container.equals("tomcat")) {
			return List.of("--spring.autoconfigure.exclude=" + JETTY_AUTO_CONFIGURATION,
					"--server.tomcat.max-connections=20000");
		}
		// Jetty holds idle async requests without a thread (default pool: 8..200 threads, one selector and one
		// acceptor on 2 cores). Its idle timeout does not end an idle async (SSE) request (checked: streams idle
		// for 3x a 3 s timeout still received a broadcast), but fails a write blocked that long: 60 s, like the
		// write timeout Tomcat applies by default (its connection timeout).
		return List.of("--spring.autoconfigure.exclude=" + TOMCAT_AUTO_CONFIGURATION,
				"--server.jetty.max-connections=20000",
				"--server.jetty.connection-idle-timeout=" + option("jetty-idle-timeout", "60s"),
				"--bench.jetty.accept-queue-size=100");
	}

	// ---------------------------------------------------------------- running

	private void run() throws Exception {
		List<String> scenarios = option("scenario", "all").equals("all") ? SCENARIOS : list(option("scenario", ""));
		for (String scenario : scenarios) {
			if (!SCENARIOS.contains(scenario)) {
				throw new IllegalArgumentException("Unknown scenario " + scenario + ", expected one of " + SCENARIOS);
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
			for (int run = 1; run <= this.repeat; run++) {
				for (Side side : scenarioSides) {
					if (System.nanoTime() > this.deadline) {
						note("skipped " + scenario + "/" + side + " run " + run + ": max-minutes reached");
						continue;
					}
					System.out.printf("%n=== %s / %s%s ===%n", scenario, side,
							(this.repeat > 1) ? " (run " + run + " of " + this.repeat + ")" : "");
					try {
						if (scenario.equals("stall")) {
							stall(side, run); // a fresh server for each number of stuck clients
						}
						else {
							runOnFreshServer(scenario, side, run);
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
			List<Double> samples = new ArrayList<>();
			List<Double> callSamples = new ArrayList<>();
			int timeouts = 0;
			for (int i = -3; i < rounds; i++) {
				client.expectMore(1);
				Http.Response response = Http.request(server.address, "POST", "/broadcast?count=1&size=64", 60_000);
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
			double p50 = percentile(samples, 50);
			double p99 = percentile(samples, 99);
			double callP50 = percentile(callSamples, 50);
			System.out.printf(
					"  fan-out to %d clients: p50 %.1f ms, p99 %.1f ms; in the server, %s p50 %.2f ms (%d rounds, %d timed out, %d closed)%n",
					expected, p50, p99, side.control() ? "send loop" : "registry.broadcast call", callP50,
					samples.size(), timeouts, client.closedWhileStreaming.get());
			record("fan-out to " + n + " p50 (ms)", side, p50);
			record("fan-out to " + n + " p99 (ms)", side, p99);
			record("fan-out to " + n + ": broadcast call (control: send loop) p50 (ms)", side, callP50);
		}
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

	/** Rows that count threads or streams: a ratio starter / control says nothing there. */
	private static boolean isCount(String metric) {
		return metric.contains("threads") || metric.contains("still open");
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
		int port;
		try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
			port = socket.getLocalPort();
		}
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
		command.addAll(containerArgs(side.container()));
		if (side.control()) {
			command.add("--sisk.sse.enabled=false");
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
		Path log = this.logs.resolve(scenario + "-" + side + ((this.repeat > 1) ? "-run" + run : "") + ".log");
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
