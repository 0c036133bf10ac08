package io.github.sisksse.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs the benchmark: for each scenario, starts the bench server as a separate JVM in {@code starter} mode, measures,
 * stops it, then does the same in {@code control} mode (plain {@code SseEmitter}), and finally prints both sides and
 * the ratios starter/control. See docs/performance.md. With the first argument {@code server}, runs the server
 * instead (that is how the runner starts it).
 * <p>
 * Options ({@code --name=value}): {@code scenario} (all, or a comma list of connections, fanout, throughput, heap,
 * stall), {@code clients} (fan-out sizes, default 1000,10000), {@code connections} (19000), {@code rounds} (20),
 * {@code throughput-clients} (10000), {@code events} (100), {@code event-size} (128), {@code idle} (5000),
 * {@code stall-clients} (20), {@code stalled} (2), {@code stall-events} (3000), {@code stall-size} (4096),
 * {@code stall-timeout} (200 s), {@code xmx} (2g), {@code sides} (starter,control), {@code tuning} (the Tomcat
 * settings of the starter side), {@code control-tuned} (true: also measure heap of the control with the same
 * tuning), {@code max-minutes} (25: later scenarios are skipped after that).
 */
public final class BenchmarkRunner {

	/** The Tomcat settings applied to the starter side, to reduce the heap held per connection. */
	static final String DEFAULT_TUNING = String.join(" ", "--server.max-http-request-header-size=4KB",
			"--server.tomcat.max-http-response-header-size=1KB",
			"--bench.connector-properties=socket.appReadBufSize=1024,socket.appWriteBufSize=4096");

	private static final List<String> COMMON_SERVER_ARGS = List.of("--server.address=127.0.0.1",
			"--server.tomcat.max-connections=20000", "--sisk.sse.ping.enabled=false", "--spring.main.banner-mode=off",
			"--logging.level.root=WARN", "--spring.jmx.enabled=false");

	private final Map<String, String> options;

	private final long deadline;

	private final Path logs;

	private final List<ServerProcess> running = new ArrayList<>();

	/** metric -> side -> value. */
	private final Map<String, Map<String, Double>> results = new LinkedHashMap<>();

	private final List<String> notes = new ArrayList<>();

	private BenchmarkRunner(Map<String, String> options) throws IOException {
		this.options = options;
		this.deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(longOption("max-minutes", 25));
		Path target = Files.isDirectory(Path.of("benchmarks", "target")) ? Path.of("benchmarks", "target")
				: Path.of("target");
		this.logs = target.resolve("bench-logs");
		Files.createDirectories(this.logs);
	}

	public static void main(String[] args) throws Exception {
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

	private void run() throws Exception {
		List<String> scenarios = List.of(option("scenario", "all").equals("all")
				? new String[] { "connections", "fanout", "throughput", "heap", "stall" }
				: option("scenario", "").split(","));
		List<String> sides = List.of(option("sides", "starter,control").split(","));
		System.out.printf("Benchmark: scenarios %s, sides %s, server -Xmx%s, java %s, %d cores%n", scenarios, sides,
				option("xmx", "2g"), System.getProperty("java.version"), Runtime.getRuntime().availableProcessors());
		System.out.println("Starter-side Tomcat tuning: " + option("tuning", DEFAULT_TUNING));
		for (String scenario : scenarios) {
			List<String> scenarioSides = new ArrayList<>(sides);
			if (scenario.equals("heap") && Boolean.parseBoolean(option("control-tuned", "true"))
					&& sides.contains("control")) {
				scenarioSides.add("control-tuned");
			}
			if (scenario.equals("stall") && Boolean.parseBoolean(option("stall-bigqueue", "true"))
					&& sides.contains("starter")) {
				scenarioSides.add(scenarioSides.indexOf("starter") + 1, "starter-bigqueue");
			}
			for (String side : scenarioSides) {
				if (System.nanoTime() > this.deadline) {
					note("skipped " + scenario + "/" + side + ": max-minutes reached");
					continue;
				}
				System.out.printf("%n=== %s / %s ===%n", scenario, side);
				ServerProcess server = start(side, scenario);
				try (LoadClient client = new LoadClient(server.address, side.charAt(0) + "-")) {
					switch (scenario) {
						case "connections" -> connections(side, server, client);
						case "fanout" -> fanout(side, server, client);
						case "throughput" -> throughput(side, server, client);
						case "heap" -> heap(side, server, client);
						case "stall" -> stall(side, server, client);
						default -> throw new IllegalArgumentException("Unknown scenario " + scenario);
					}
					if (!client.lastError.isEmpty()) {
						System.out.println("  last client error: " + client.lastError);
					}
				}
				catch (Exception ex) {
					note(scenario + "/" + side + " failed: " + ex);
					ex.printStackTrace(System.out);
				}
				finally {
					stop(server);
				}
			}
		}
		printSummary();
	}

	// ---------------------------------------------------------------- scenarios

	private void connections(String side, ServerProcess server, LoadClient client) throws Exception {
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

	private void fanout(String side, ServerProcess server, LoadClient client) throws Exception {
		int rounds = intOption("rounds", 20);
		int opened = 0;
		for (String size : option("clients", "1000,10000").split(",")) {
			int n = Integer.parseInt(size.trim());
			client.open(n - opened, false);
			opened = n;
			if (!awaitWithProgress(() -> client.streaming.get() >= n, client.streaming::get, 120_000, 20_000)) {
				note("fanout " + n + "/" + side + ": only " + client.streaming.get() + " streams opened");
			}
			Thread.sleep(500);
			int expected = client.streaming.get();
			List<Double> samples = new ArrayList<>();
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
				}
				Thread.sleep(50);
			}
			double p50 = percentile(samples, 50);
			double p99 = percentile(samples, 99);
			System.out.printf("  fan-out to %d clients: p50 %.1f ms, p99 %.1f ms (%d rounds, %d timed out, %d closed)%n",
					expected, p50, p99, samples.size(), timeouts, client.closedWhileStreaming.get());
			record("fan-out to " + n + " p50 (ms)", side, p50);
			record("fan-out to " + n + " p99 (ms)", side, p99);
		}
	}

	private void throughput(String side, ServerProcess server, LoadClient client) throws Exception {
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

	private void heap(String side, ServerProcess server, LoadClient client) throws Exception {
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
		System.out.printf("  %d idle streams (server counts %d): heap %.1f -> %.1f MB = %.0f B each; RSS %.0f -> %.0f MB = %.0f B each%n",
				held, Http.value(s1.body(), "connections"), Http.value(s0.body(), "heap") / 1e6,
				Http.value(s1.body(), "heap") / 1e6, heapPer, rss0 / 1e6, rss1 / 1e6, rssPer);
		record("heap per idle connection (bytes)", side, heapPer);
		record("RSS per idle connection (bytes)", side, rssPer);
	}

	private void stall(String side, ServerProcess server, LoadClient client) throws Exception {
		int total = intOption("stall-clients", 20);
		int stalled = intOption("stalled", 2);
		int healthy = total - stalled;
		// Each phase on a fresh server: the server only notices closed idle streams at its next write.
		double without = stallPhase(side, server, client, healthy, 0);
		double with;
		ServerProcess second = start(side, "stall-with-stalled");
		try (LoadClient secondClient = new LoadClient(second.address, "s-")) {
			with = stallPhase(side, second, secondClient, healthy, stalled);
		}
		finally {
			stop(second);
		}
		record("stall: " + healthy + " healthy, no stalled (s)", side, without);
		record("stall: " + healthy + " healthy + " + stalled + " stalled (s)", side, with);
		record("stall: with/without stalled", side, with / without);
	}

	private double stallPhase(String side, ServerProcess server, LoadClient client, int healthy, int stalled)
			throws Exception {
		int events = intOption("stall-events", 3000);
		int size = intOption("stall-size", 4096);
		long cap = longOption("stall-timeout", 200) * 1000;
		client.open(healthy, false);
		client.awaitOpened(healthy, 0, 30_000);
		// Warm up (JIT) with a smaller burst before the stalled clients connect.
		int warmup = intOption("stall-warmup-events", 200);
		for (int i = 1; i <= 3 && warmup > 0; i++) {
			client.expectMore(warmup);
			Http.request(server.address, "POST", "/broadcast?count=" + warmup + "&size=" + size, 60_000);
			LoadClient.await(() -> client.reached.get() + client.closedWhileStreaming.get() >= healthy, 30_000);
		}
		if (client.streaming.get() != healthy) {
			note("stall/" + side + ": warm-up closed " + (healthy - client.streaming.get()) + " healthy streams");
		}
		if (stalled > 0) {
			client.open(stalled, true);
			client.awaitOpened(healthy, stalled, 30_000);
		}
		awaitServerConnections(server, client.streaming.get() + stalled, 20_000);
		client.expectMore(events);
		int expected = client.streaming.get();
		int closedBefore = client.closedWhileStreaming.get();
		long before = client.dataEvents.get();
		long sent = System.nanoTime();
		CompletableFuture<Http.Response> post = postAsync(server, "/broadcast?count=" + events + "&size=" + size,
				(int) cap + 60_000);
		boolean done = LoadClient.await(
				() -> client.reached.get() + client.closedWhileStreaming.get() - closedBefore >= expected, cap);
		long end = (done && client.reached.get() >= expected) ? client.lastReachNanos.get() : System.nanoTime();
		double seconds = (end - sent) / 1e9;
		long delivered = client.dataEvents.get() - before;
		int closed = client.closedWhileStreaming.get() - closedBefore;
		System.out.printf("  %d healthy + %d stalled, %d x %d B: healthy done %s after %.2f s; %d of %d events delivered to the healthy; %d healthy closed by the server; %s%n",
				expected, stalled, events, size, !done ? "NOT (TIMED OUT)" : (closed == 0) ? "(all events received)" : "(with some CLOSED)", seconds, delivered,
				(long) expected * events, closed, describe(post));
		if (!done) {
			note("stall/" + side + " with " + stalled + " stalled: timed out after " + cap / 1000 + " s");
		}
		if (closed > 0 || delivered < (long) expected * events) {
			note("stall/" + side + " with " + stalled + " stalled: " + closed + " healthy streams closed, "
					+ ((long) expected * events - delivered) + " events not delivered to healthy clients");
		}
		// Healthy clients that were closed did not receive everything: there is no time to compare.
		return (closed == 0) ? seconds : Double.NaN;
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
	private static boolean awaitWithProgress(java.util.function.BooleanSupplier condition,
			java.util.function.IntSupplier progress, long timeoutMillis, long idleMillis) throws InterruptedException {
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
		if (samples.isEmpty()) {
			return Double.NaN;
		}
		List<Double> sorted = new ArrayList<>(samples);
		sorted.sort(null);
		int index = (int) Math.ceil(percentile / 100.0 * sorted.size()) - 1;
		return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
	}

	private void record(String metric, String side, double value) {
		this.results.computeIfAbsent(metric, (key) -> new LinkedHashMap<>()).put(side, value);
	}

	private void note(String note) {
		System.out.println("  NOTE: " + note);
		this.notes.add(note);
	}

	private void printSummary() {
		List<String> columns = new ArrayList<>();
		this.results.values().forEach((values) -> values.keySet().forEach((side) -> {
			if (!columns.contains(side)) {
				columns.add(side);
			}
		}));
		System.out.printf("%n=== Summary (ratio = starter / control, same run) ===%n");
		StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "%-48s", "metric"));
		columns.forEach((side) -> header.append(String.format(Locale.ROOT, " %16s", side)));
		System.out.println(header.append(String.format(Locale.ROOT, " %10s", "ratio")));
		for (Map.Entry<String, Map<String, Double>> entry : this.results.entrySet()) {
			Map<String, Double> values = entry.getValue();
			Double starter = values.get("starter");
			Double control = values.get("control");
			String ratio = (starter != null && control != null && control != 0)
					? String.format(Locale.ROOT, "%.3f", starter / control) : "-";
			StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-48s", entry.getKey()));
			columns.forEach((side) -> line.append(String.format(Locale.ROOT, " %16s", format(values.get(side)))));
			System.out.println(line.append(String.format(Locale.ROOT, " %10s", ratio)));
		}
		Map<String, Double> heap = this.results.get("heap per idle connection (bytes)");
		if (heap != null && heap.get("starter") != null && heap.get("control-tuned") != null) {
			System.out.printf(Locale.ROOT, "heap per idle connection, starter / control-tuned: %.3f%n",
					heap.get("starter") / heap.get("control-tuned"));
		}
		Map<String, Double> stall = this.results.get("stall: with/without stalled");
		if (stall != null) {
			stall.forEach((side, value) -> System.out.printf(Locale.ROOT,
					"stall, %s: healthy clients' time with stalled clients / without: %.3f (target <= 1.1)%n", side,
					value));
		}
		for (String note : this.notes) {
			System.out.println("NOTE: " + note);
		}
	}

	private static String format(Double value) {
		if (value == null) {
			return "-";
		}
		return (Math.abs(value) >= 100) ? String.format(Locale.ROOT, "%.0f", value)
				: String.format(Locale.ROOT, "%.3f", value);
	}

	// ---------------------------------------------------------------- server processes

	private ServerProcess start(String side, String scenario) throws Exception {
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
		command.add("--bench.mode=" + (side.startsWith("control") ? "control" : "starter"));
		command.add("--server.port=" + port);
		command.addAll(COMMON_SERVER_ARGS);
		if (side.startsWith("control")) {
			command.add("--sisk.sse.enabled=false");
		}
		if (side.equals("starter-bigqueue")) {
			// A queue that holds the whole burst, so that healthy clients are not closed for overflow.
			command.add("--sisk.sse.queue.max-bytes=" + option("bigqueue-max-bytes", "16MB"));
			command.add("--sisk.sse.queue.max-events=" + option("bigqueue-max-events", "4000"));
		}
		if (side.startsWith("starter") || side.equals("control-tuned")) {
			for (String arg : option("tuning", DEFAULT_TUNING).trim().split("\\s+")) {
				if (!arg.isEmpty()) {
					command.add(arg);
				}
			}
		}
		Path log = this.logs.resolve(scenario + "-" + side + ".log");
		Process process = new ProcessBuilder(command).redirectErrorStream(true)
			.redirectOutput(log.toFile())
			.start();
		ServerProcess server = new ServerProcess(process, new InetSocketAddress("127.0.0.1", port));
		this.running.add(server);
		long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
		while (System.nanoTime() < end) {
			if (!process.isAlive()) {
				throw new IllegalStateException("Server exited with " + process.exitValue() + ", see " + log);
			}
			try {
				if (Http.request(server.address, "GET", "/hello", 2000).status() == 200) {
					System.out.printf("  server %s pid %d on port %d, log %s%n", side, process.pid(), port, log);
					return server;
				}
			}
			catch (IOException ex) {
				// not up yet
			}
			Thread.sleep(200);
		}
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
