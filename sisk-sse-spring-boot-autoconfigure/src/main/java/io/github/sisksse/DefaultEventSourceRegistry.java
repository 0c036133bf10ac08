package io.github.sisksse;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Predicate;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.SmartLifecycle;
import org.springframework.http.HttpStatus;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.http.converter.HttpMessageConverters;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;
import org.springframework.util.Assert;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/**
 * The registry: a concurrent map from identifier to the live sources with it, plus the set of anonymous sources
 * (kept only to close them at shutdown). Each identifier's entry is an immutable list replaced atomically with
 * {@link ConcurrentHashMap#compute}, so registration, replacement and removal of the sources of one identifier
 * never interleave, and readers never lock. Ending a source happens outside the map's locks.
 */
final class DefaultEventSourceRegistry implements EventSourceRegistry, SmartLifecycle, DisposableBean {

	private static final Log logger = LogFactory.getLog(DefaultEventSourceRegistry.class);

	private static final long SHUTDOWN_WAIT_MILLIS = 5000;

	private static final int MAX_LENT_PER_WRITER = 8;

	private static final Duration SHUTDOWN_RETRY_SPREAD = Duration.ofSeconds(30);

	/**
	 * How long a write may block before the pool lends a thread in its place. Long for a write to a reading
	 * client on a working network, short for the others waiting.
	 */
	private static final Duration LEND_AFTER = Duration.ofMillis(500);

	private final long lendAfterNanos;

	final EventSourceRegistry.Builder settings;

	final EventEncoder encoder;

	final TaskScheduler scheduler;

	final Executor writers;

	final byte @Nullable [] closeEvent;

	private final @Nullable ThreadPoolTaskScheduler ownScheduler;

	private final @Nullable ExecutorService ownWriters;

	private final ConcurrentHashMap<String, List<DefaultEventSource>> identified = new ConcurrentHashMap<>();

	private final Set<DefaultEventSource> anonymous = ConcurrentHashMap.newKeySet();

	private final AtomicInteger identifiedCount = new AtomicInteger();

	/** The history of identified streams, or {@code null} without replay. */
	private final @Nullable EventHistory history;

	private final Lock[] streamLocks = new Lock[256];

	/** Streams whose last source ended, and when: a broadcast records for them until the replay window passes. */
	private final ConcurrentHashMap<String, Long> departed = new ConcurrentHashMap<>();

	private static final byte[] NO_EVENT = new byte[0];

	/** Open sources, anonymous ones included, counted against {@code maxConnections}. */
	private final AtomicInteger connections = new AtomicInteger();

	/** Open sources per client address; only kept when there is a per-client limit. */
	private final ConcurrentHashMap<String, Integer> perClient = new ConcurrentHashMap<>();

	/**
	 * Writes in progress, by source. The watchdog marks those blocked for long (lending a thread) and those
	 * blocked beyond the write timeout (ending the source); a mark and the removal of the entry when the write
	 * returns are atomic per source, so a thread is lent at most once per blocked write and always taken back.
	 */
	private final ConcurrentHashMap<DefaultEventSource, Write> writing = new ConcurrentHashMap<>();

	private final int writerThreads;

	private final AtomicInteger extraWriters = new AtomicInteger();

	private final @Nullable ScheduledFuture<?> watchdog;

	private volatile boolean running = true;

	DefaultEventSourceRegistry(EventSourceRegistry.Builder builder) {
		this.settings = builder.copy();
		this.history = this.settings.history;
		for (int i = 0; i < this.streamLocks.length; i++) {
			this.streamLocks[i] = new ReentrantLock();
		}
		this.encoder = new EventEncoder((builder.messageConverters != null) ? builder.messageConverters
				: () -> HttpMessageConverters.forServer().registerDefaults().build());
		// Encode the configured events once, so that a bad name or message fails now rather than at first use.
		this.encoder.ping(this.settings.pingFormat, this.settings.pingMessage, this.settings.pingEventName);
		this.closeEvent = (this.settings.closeEventName != null) ? this.encoder.encode(
				ServerSentEvent.builder(this.settings.closeEventData).event(this.settings.closeEventName).build())
				: null;
		if (builder.scheduler != null) {
			this.scheduler = builder.scheduler;
			this.ownScheduler = null;
		}
		else {
			ThreadPoolTaskScheduler own = new ThreadPoolTaskScheduler();
			own.setPoolSize(1);
			own.setThreadNamePrefix("sisk-sse-scheduler-");
			own.setDaemon(true);
			own.setRemoveOnCancelPolicy(true);
			own.initialize();
			this.scheduler = own;
			this.ownScheduler = own;
		}
		if (builder.writerExecutor != null) {
			this.writers = builder.writerExecutor;
			this.ownWriters = null;
		}
		else {
			CustomizableThreadFactory threads = new CustomizableThreadFactory("sisk-sse-writer-");
			threads.setDaemon(true);
			// The task queue is bounded by the number of sources: each has at most one writer task submitted.
			ExecutorService own = Executors.newFixedThreadPool(builder.writerThreads, threads);
			this.writers = own;
			this.ownWriters = own;
		}
		this.writerThreads = builder.writerThreads;
		this.lendAfterNanos = Math.min(LEND_AFTER.toNanos(), this.settings.writeTimeout.toNanos());
		long period = Math.max(20, Math.min(100, this.settings.writeTimeout.toMillis() / 4));
		this.watchdog = this.scheduler.scheduleWithFixedDelay(this::checkWrites, Duration.ofMillis(period));
	}

	@Override
	public EventSource open() {
		checkRunning();
		DefaultEventSource source = new DefaultEventSource(null, reserve(null), this);
		this.anonymous.add(source);
		return started(source);
	}

	@Override
	public EventSource open(String identifier) {
		Assert.notNull(identifier, "Event source identifier must not be null");
		checkRunning();
		DefaultEventSource source = new DefaultEventSource(identifier, reserve(identifier), this);
		List<DefaultEventSource> replaced = new ArrayList<>(1);
		boolean[] rejected = new boolean[1];
		String lastEventId = lastEventId();
		int replayed = 0;
		// Registering and replaying under the stream's lock: every event of the stream is recorded and delivered
		// under it too, so each one is either in the replay or delivered live to this source, never both.
		RuntimeException historyFailure = null;
		Lock stream = stream(identifier);
		stream.lock();
		try {
			register(identifier, source, replaced, rejected);
			if (!rejected[0] && this.history != null) {
				Optional<List<StoredEvent>> missed = (lastEventId != null)
						? this.history.after(identifier, lastEventId) : Optional.of(List.of());
				// A position in the stream, sent after the replay: a client that receives no event before its
				// next reconnect can still say where it was.
				StoredEvent position = record(identifier, null, NO_EVENT);
				source.replay(missed.orElse(List.of()),
						missed.isPresent() ? null : this.resetEvent(Objects.requireNonNull(lastEventId)),
						("id: " + position.id() + "\n\n").getBytes(StandardCharsets.UTF_8));
				replayed = missed.map((events) -> (int) events.stream().filter((e) -> e.frame().length > 0).count())
					.orElse(-1);
			}
		}
		catch (RuntimeException ex) {
			// A history that fails (a remote store, say) must not leave a registered source nobody returns.
			historyFailure = ex;
		}
		finally {
			stream.unlock();
		}
		if (rejected[0]) {
			release(source.remoteAddress());
			throw new EventSourceRejectedException(HttpStatus.CONFLICT,
					"An event source with identifier '" + identifier + "' is already open");
		}
		for (DefaultEventSource old : replaced) {
			// It left the map here, so its removal when it ends will not find it: release its place now.
			release(old.remoteAddress());
			old.end(CloseReason.REPLACED, true, true, null);
		}
		if (historyFailure != null) {
			source.end(CloseReason.ERROR, false, false, historyFailure);
			throw historyFailure;
		}
		EventSource opened = started(source);
		if (lastEventId != null && this.history != null) {
			int count = replayed;
			notify((listener) -> listener.onReplay(opened, lastEventId, count));
		}
		return opened;
	}

	private void register(String identifier, DefaultEventSource source, List<DefaultEventSource> replaced,
			boolean[] rejected) {
		this.departed.remove(identifier);
		this.identified.compute(identifier, (key, existing) -> {
			if (existing == null) {
				this.identifiedCount.incrementAndGet();
				return List.of(source);
			}
			return switch (this.settings.duplicateIdentifier) {
				case REPLACE -> {
					replaced.addAll(existing);
					this.identifiedCount.addAndGet(1 - existing.size());
					yield List.of(source);
				}
				case REJECT -> {
					rejected[0] = true;
					yield existing;
				}
				case ALLOW -> {
					this.identifiedCount.incrementAndGet();
					List<DefaultEventSource> all = new ArrayList<>(existing.size() + 1);
					all.addAll(existing);
					all.add(source);
					yield List.copyOf(all);
				}
			};
		});
	}

	/**
	 * Return the id the reconnecting client last received: the {@code Last-Event-ID} header browsers send, or the
	 * {@code lastEventId} query parameter of clients that cannot set headers.
	 */
	private static @Nullable String lastEventId() {
		if (!(RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes attributes)) {
			return null;
		}
		String header = attributes.getRequest().getHeader("Last-Event-ID");
		return (header != null && !header.isEmpty()) ? header : attributes.getRequest().getParameter("lastEventId");
	}

	private byte[] resetEvent(String lastEventId) {
		return this.encoder.encode(ServerSentEvent.builder(lastEventId).event(this.settings.resetEventName).build());
	}

	/**
	 * Return the lock of a stream: streams are spread over a fixed set of locks, so that the number of locks
	 * stays bounded whatever the number of identifiers.
	 */
	private Lock stream(String identifier) {
		return this.streamLocks[(identifier.hashCode() & 0x7fffffff) % this.streamLocks.length];
	}

	/**
	 * Send from one source: numbered and, for an identified source with replay, recorded in its stream's history.
	 */
	boolean sendFrom(DefaultEventSource source, Object data) {
		byte[] event = this.encoder.encode(data);
		String ownId = ownId(data);
		String identifier = source.identifier();
		if (identifier == null || this.history == null) {
			return source.offer(localIdUnless(ownId), event, true);
		}
		DefaultEventSource.Offer offer;
		Lock stream = stream(identifier);
		stream.lock();
		try {
			// Registration is what the lock guards: a source just replaced may still be open for a moment, and an
			// event recorded for it now would reach neither it (ending) nor its successor (already replayed).
			if (!this.identified.getOrDefault(identifier, List.of()).contains(source)) {
				return false;
			}
			offer = source.enqueue(record(identifier, ownId, event).idLine(), event, true);
		}
		finally {
			stream.unlock();
		}
		return source.settle(offer);
	}

	@Override
	public int send(String identifier, Object data) {
		Assert.notNull(identifier, "Event source identifier must not be null");
		byte[] event = this.encoder.encode(data);
		return sendToStream(identifier, ownId(data), event);
	}

	/**
	 * Record an event in the stream's history, if any, and queue it for the stream's live sources, atomically
	 * with respect to a source of the stream opening with a replay.
	 */
	private int sendToStream(String identifier, @Nullable String ownId, byte[] event) {
		if (this.history == null) {
			return offerToAll(this.identified.getOrDefault(identifier, List.of()), ownId, event);
		}
		List<DefaultEventSource> sources;
		DefaultEventSource.Offer[] offers;
		Lock stream = stream(identifier);
		stream.lock();
		try {
			byte[] idLine = record(identifier, ownId, event).idLine();
			sources = this.identified.getOrDefault(identifier, List.of());
			offers = new DefaultEventSource.Offer[sources.size()];
			for (int i = 0; i < offers.length; i++) {
				offers[i] = sources.get(i).enqueue(idLine, event, false);
			}
		}
		finally {
			stream.unlock();
		}
		// Ending an overflowing source runs listeners and callbacks: never under the stream's lock.
		int queued = 0;
		for (int i = 0; i < offers.length; i++) {
			queued += sources.get(i).settle(offers[i]) ? 1 : 0;
		}
		return queued;
	}

	private StoredEvent record(String identifier, @Nullable String ownId, byte[] event) {
		EventHistory history = this.history;
		Assert.state(history != null, "No history");
		String id = (ownId != null) ? ownId : Long.toString(history.nextId(identifier));
		StoredEvent stored = new StoredEvent(id, ownId == null, event, Instant.now());
		history.add(identifier, stored);
		return stored;
	}

	/**
	 * Queue an event for each source, numbered by each source itself unless it carries the application's id.
	 * @return how many sources it was queued for
	 */
	private static int offerToAll(Iterable<DefaultEventSource> sources, @Nullable String ownId, byte[] event) {
		byte[] idLine = localIdUnless(ownId);
		int queued = 0;
		for (DefaultEventSource source : sources) {
			queued += source.offer(idLine, event, false) ? 1 : 0;
		}
		return queued;
	}

	private static byte @Nullable [] localIdUnless(@Nullable String ownId) {
		return (ownId != null) ? null : DefaultEventSource.LOCAL_ID;
	}

	private static @Nullable String ownId(Object data) {
		return (data instanceof ServerSentEvent<?> event) ? event.id() : null;
	}

	private EventSource started(DefaultEventSource source) {
		source.start();
		if (!this.running) {
			// Lost a race with stop(): it may not have seen this source.
			source.end(CloseReason.SHUTDOWN, true, true, null);
		}
		return source;
	}

	/**
	 * Count a new source against the connection limits, before it exists. A source that will replace a live one
	 * with its identifier is let through: the client is reconnecting, and the older source is about to go.
	 * @param identifier the identifier of the new source, if any
	 * @return the address of the client of the current request, if any
	 */
	private @Nullable String reserve(@Nullable String identifier) {
		String address = (RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes request)
				? request.getRequest().getRemoteAddr() : null;
		boolean replacing = identifier != null && this.settings.duplicateIdentifier == DuplicateIdentifierPolicy.REPLACE
				&& this.identified.containsKey(identifier);
		Integer max = (replacing) ? null : this.settings.maxConnections;
		if (this.connections.incrementAndGet() > ((max != null) ? max : Integer.MAX_VALUE)) {
			this.connections.decrementAndGet();
			throw new EventSourceRejectedException(HttpStatus.SERVICE_UNAVAILABLE,
					"Too many event streams are open (sisk.sse.max-connections=" + max + "); retry later",
					retryAfter());
		}
		Integer perClient = this.settings.maxConnectionsPerClient;
		if (perClient != null && address != null && this.perClient.merge(address, 1, Integer::sum) > perClient
				&& !replacing) {
			release(address);
			throw new EventSourceRejectedException(HttpStatus.TOO_MANY_REQUESTS,
					"Too many event streams are open from " + address + " (sisk.sse.max-connections-per-client="
							+ perClient + "); retry later",
					retryAfter());
		}
		return address;
	}

	private void release(@Nullable String address) {
		this.connections.decrementAndGet();
		if (address != null && this.settings.maxConnectionsPerClient != null) {
			this.perClient.computeIfPresent(address, (key, count) -> (count > 1) ? count - 1 : null);
		}
	}

	private Duration retryAfter() {
		return (this.settings.retry != null) ? this.settings.retry : Duration.ofSeconds(5);
	}

	@Override
	public int connectionCount() {
		return this.connections.get();
	}

	private void checkRunning() {
		if (!this.running) {
			throw new EventSourceRejectedException(HttpStatus.SERVICE_UNAVAILABLE,
					"The event source registry is stopped");
		}
	}

	@Override
	public Optional<EventSource> get(String identifier) {
		List<DefaultEventSource> sources = this.identified.get(identifier);
		return (sources != null) ? Optional.of(sources.get(sources.size() - 1)) : Optional.empty();
	}

	@Override
	public List<EventSource> find(Predicate<String> identifierMatcher) {
		List<EventSource> result = new ArrayList<>();
		this.identified.forEach((identifier, sources) -> {
			if (identifierMatcher.test(identifier)) {
				result.addAll(sources);
			}
		});
		return result;
	}

	@Override
	public List<EventSource> all() {
		return find((identifier) -> true);
	}

	@Override
	public int size() {
		return this.identifiedCount.get();
	}

	@Override
	public int broadcast(Object data) {
		byte[] event = this.encoder.encode(data);
		String ownId = ownId(data);
		return offerToAll(this.anonymous, ownId, event) + broadcastToStreams(event, ownId, (identifier) -> true);
	}

	@Override
	public int broadcast(Object data, Predicate<String> identifierMatcher) {
		return broadcastToStreams(this.encoder.encode(data), ownId(data), identifierMatcher);
	}

	/**
	 * Send to every matching stream: the live ones, and with replay also those only in the history, whose client
	 * is between two connections and will get the event when it reconnects.
	 */
	private int broadcastToStreams(byte[] event, @Nullable String ownId, Predicate<String> identifierMatcher) {
		int queued = 0;
		if (this.history == null) {
			for (Map.Entry<String, List<DefaultEventSource>> stream : this.identified.entrySet()) {
				if (identifierMatcher.test(stream.getKey())) {
					queued += offerToAll(stream.getValue(), ownId, event);
				}
			}
			return queued;
		}
		for (String identifier : this.identified.keySet()) {
			if (identifierMatcher.test(identifier)) {
				queued += sendToStream(identifier, ownId, event);
			}
		}
		forgetDeparted();
		for (String identifier : this.departed.keySet()) {
			if (!this.identified.containsKey(identifier) && identifierMatcher.test(identifier)) {
				sendToStream(identifier, ownId, event);
			}
		}
		return queued;
	}

	/**
	 * Forget the departed streams whose client did not come back within the replay window: their history is
	 * expiring, so broadcasts stop feeding it.
	 */
	private void forgetDeparted() {
		long oldest = System.nanoTime() - this.settings.replayWindow.toNanos();
		this.departed.values().removeIf((departedAt) -> departedAt - oldest < 0);
	}

	/**
	 * Forget an ended source. Idempotent; never removes a newer source with the same identifier.
	 */
	void remove(DefaultEventSource source) {
		String identifier = source.identifier();
		if (identifier == null) {
			if (this.anonymous.remove(source)) {
				release(source.remoteAddress());
			}
			return;
		}
		this.identified.computeIfPresent(identifier, (key, sources) -> {
			if (!sources.contains(source)) {
				return sources;
			}
			this.identifiedCount.decrementAndGet();
			release(source.remoteAddress());
			if (sources.size() == 1) {
				if (this.history != null) {
					// Between two connections: broadcasts keep reaching its history for the replay window.
					this.departed.put(identifier, System.nanoTime());
					if (this.departed.size() > 4096) {
						forgetDeparted();
					}
				}
				return null;
			}
			List<DefaultEventSource> rest = new ArrayList<>(sources);
			rest.remove(source);
			return List.copyOf(rest);
		});
	}

	/**
	 * Tell every listener, shielding the caller (often a writer or container thread) from their failures.
	 */
	void notify(Consumer<EventSourceListener> event) {
		for (EventSourceListener listener : this.settings.listeners) {
			try {
				event.accept(listener);
			}
			catch (VirtualMachineError ex) {
				throw ex;
			}
			catch (Throwable ex) {
				// Whatever a listener does must not leave a writer or container thread half-way.
				logger.warn("Event source listener " + listener + " failed", ex);
			}
		}
	}

	void writeStarted(DefaultEventSource source) {
		this.writing.put(source, new Write(System.nanoTime()));
	}

	void writeFinished(DefaultEventSource source) {
		Write write = this.writing.remove(source);
		if (write != null && write.lent) {
			this.extraWriters.decrementAndGet();
			resizeWriters();
		}
	}

	/**
	 * The write watchdog, on the scheduler every 100 ms at most; never throws. A write blocked for longer than
	 * {@link #LEND_AFTER} (the client is not reading) gets the writer pool one more thread until it returns, so
	 * that other clients do not wait behind it; one blocked beyond the write timeout also ends its source.
	 */
	private void checkWrites() {
		try {
			long now = System.nanoTime();
			long timeout = this.settings.writeTimeout.toNanos();
			int lent = 0;
			List<DefaultEventSource> blocked = new ArrayList<>();
			for (DefaultEventSource source : this.writing.keySet()) {
				int[] newlyLent = new int[1];
				this.writing.computeIfPresent(source, (key, write) -> {
					if (!write.lent && now - write.startedNanos > this.lendAfterNanos) {
						write.lent = true;
						newlyLent[0] = 1;
					}
					if (!write.timedOut && now - write.startedNanos > timeout) {
						write.timedOut = true;
						blocked.add(key);
					}
					return write;
				});
				lent += newlyLent[0];
			}
			if (lent > 0) {
				this.extraWriters.addAndGet(lent);
				resizeWriters();
			}
			if (!blocked.isEmpty()) {
				// Each of these sources is released now, though its socket and writer stay held until the
				// container gives up on the write; the lent threads are capped, see resizeWriters().
				blocked.forEach((source) -> source.end(CloseReason.WRITE_TIMEOUT, false, false, null));
			}
		}
		catch (RuntimeException ex) {
			logger.warn("Event source write watchdog failed", ex);
		}
	}

	private synchronized void resizeWriters() {
		if (!(this.ownWriters instanceof ThreadPoolExecutor pool) || pool.isShutdown()) {
			return;
		}
		// Lend at most MAX_LENT_PER_WRITER threads per configured writer: past that, clients that stopped reading
		// can hold the pool until the container's write timeout, but cannot make it grow without bound.
		int size = this.writerThreads
				+ Math.min(this.writerThreads * MAX_LENT_PER_WRITER, Math.max(0, this.extraWriters.get()));
		if (size > pool.getMaximumPoolSize()) {
			pool.setMaximumPoolSize(size);
			pool.setCorePoolSize(size);
		}
		else {
			pool.setCorePoolSize(size);
			pool.setMaximumPoolSize(size);
		}
	}

	@Override
	public void start() {
		this.running = true;
	}

	/**
	 * Close every source with {@link CloseReason#SHUTDOWN}, sending the close event, and report back once all
	 * responses are complete, or after a few seconds if some client does not read.
	 */
	@Override
	public void stop(Runnable callback) {
		this.running = false;
		List<DefaultEventSource> sources = new ArrayList<>(this.anonymous);
		this.identified.values().forEach(sources::addAll);
		CompletableFuture<?>[] ended = new CompletableFuture<?>[sources.size()];
		long base = (this.settings.retry != null) ? this.settings.retry.toMillis() : 3000;
		for (int i = 0; i < ended.length; i++) {
			ended[i] = sources.get(i).whenClosed();
			// Spread the reconnections of thousands of clients over half a minute instead of one second.
			long retry = base + ThreadLocalRandom.current().nextLong(SHUTDOWN_RETRY_SPREAD.toMillis());
			sources.get(i).end(CloseReason.SHUTDOWN, true, true, EventEncoder.retry(Duration.ofMillis(retry)), null);
		}
		CompletableFuture.allOf(ended)
			.completeOnTimeout(null, SHUTDOWN_WAIT_MILLIS, TimeUnit.MILLISECONDS)
			.whenComplete((result, ex) -> callback.run());
	}

	@Override
	public void stop() {
		CompletableFuture<Void> stopped = new CompletableFuture<>();
		stop(() -> stopped.complete(null));
		stopped.join();
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	@Override
	public void destroy() throws InterruptedException {
		if (this.running) {
			stop();
		}
		if (this.watchdog != null) {
			this.watchdog.cancel(false);
		}
		if (this.ownWriters != null) {
			this.ownWriters.shutdown();
			if (!this.ownWriters.awaitTermination(1, TimeUnit.SECONDS)) {
				this.ownWriters.shutdownNow();
			}
		}
		if (this.ownScheduler != null) {
			this.ownScheduler.destroy();
		}
	}

	/**
	 * A write in progress: when it started, and whether the watchdog lent a thread for it or timed it out
	 * (guarded by the map).
	 */
	private static final class Write {

		final long startedNanos;

		boolean lent;

		boolean timedOut;

		Write(long startedNanos) {
			this.startedNanos = startedNanos;
		}

	}

}
