package io.github.sisksse;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;

import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.SmartLifecycle;
import org.springframework.http.HttpStatus;
import org.springframework.util.Assert;

/**
 * The registry: a facade over the {@link SourceIndex} (who is connected), the {@link Admission} limits, the
 * {@link Publisher} (sending), the {@link PublicationLog} and its {@link Dispatcher} (delivery in log order, and
 * replay) and the {@link WriterPool}, all made by {@link RegistryParts}; and the {@link SmartLifecycle} that closes
 * every source at shutdown.
 * <p>
 * <b>Thread safety.</b> Every part is thread-safe on its own; this class adds only the order in which it calls
 * them. A source is registered before it joins the log, and the dispatcher passes it by until it has joined, so
 * that a reconnecting client is replayed what it missed, then receives the rest live, with nothing in between.
 */
final class DefaultEventSourceRegistry implements EventSourceRegistry, DefaultEventSource.Host, SmartLifecycle,
		DisposableBean {

	/** The host of a source that is never registered. */
	private static final DefaultEventSource.Host DETACHED = new DefaultEventSource.Host() {

		@Override
		public boolean sendFrom(DefaultEventSource source, Object data) {
			return false;
		}

		@Override
		public void ended(DefaultEventSource source) {
		}

		@Override
		public void close(DefaultEventSource source) {
			source.end(CloseReason.CLOSED_BY_SERVER, true, true, null, null);
		}

	};

	private final ConnectionSettings connections;

	private final SourceIndex index;

	private final Admission admission;

	private final Targets targets;

	private final PublicationLog log;

	private final Dispatcher dispatcher;

	private final EventLog eventLog;

	private final Publisher publisher;

	private final boolean replay;

	private final DuplicateIdentifierPolicy duplicates;

	private final RegistryLifecycle lifecycle;

	DefaultEventSourceRegistry(EventSourceRegistry.Builder settings) {
		RegistryParts parts = RegistryParts.start(settings);
		this.connections = parts.connections();
		this.index = parts.index();
		this.admission = parts.admission();
		this.targets = parts.targets();
		this.log = parts.log();
		this.dispatcher = parts.dispatcher();
		this.eventLog = parts.eventLog();
		this.publisher = parts.publisher();
		this.replay = parts.replay();
		this.duplicates = parts.duplicates();
		this.lifecycle = new RegistryLifecycle(parts);
	}

	@Override
	public EventSource open() {
		this.lifecycle.checkRunning();
		if (CurrentRequest.isHead()) {
			return detached(null);
		}
		String address = CurrentRequest.remoteAddress();
		EventSourceRejectedException refused = this.admission.tryAcquire(address);
		if (refused != null) {
			throw refused;
		}
		DefaultEventSource source = new DefaultEventSource(null, address, this.connections, this,
				this.log.resume(null));
		this.targets.opened(source);
		this.index.addAnonymous(source);
		this.lifecycle.started(source);
		return source;
	}

	@Override
	public EventSource open(String identifier) {
		Assert.notNull(identifier, "Event source identifier must not be null");
		this.lifecycle.checkRunning();
		if (CurrentRequest.isHead()) {
			return detached(identifier);
		}
		String address = CurrentRequest.remoteAddress();
		EventSourceRejectedException refused = this.admission.tryAcquire(address);
		boolean takeOver = false;
		boolean sameClient = false;
		if (refused != null) {
			// At a limit, a client reconnecting to its stream may take over the place of the source it replaces:
			// all of it if it is the same client, else the global place only, within its own per-client limit.
			List<DefaultEventSource> live = this.index.sources(identifier);
			if (this.duplicates != DuplicateIdentifierPolicy.REPLACE || live.isEmpty()) {
				throw refused;
			}
			sameClient = Objects.equals(address, live.get(live.size() - 1).remoteAddress());
			if (!sameClient) {
				EventSourceRejectedException perClient = Admission.isGlobal(refused)
						? this.admission.tryAcquireForClient(address) : refused;
				if (perClient != null) {
					throw perClient;
				}
			}
			takeOver = true;
		}
		// Where the client was, read before the source can receive anything: what follows is replayed or live.
		String lastEventId = this.replay ? CurrentRequest.lastEventId() : null;
		PublicationLog.Resume resume = this.log.resume(lastEventId);
		DefaultEventSource source = new DefaultEventSource(identifier, address, this.connections, this,
				this.replay ? null : resume);
		this.targets.opened(source);
		SourceIndex.Registration registration = this.index.register(identifier, source, takeOver);
		if (registration.refused()) {
			this.targets.ended(source);
			if (takeOver) {
				if (!sameClient) {
					this.admission.releaseForClient(address);
				}
				throw Objects.requireNonNull(refused);
			}
			this.admission.release(address);
			throw new EventSourceRejectedException(HttpStatus.CONFLICT,
					"An event source with identifier '" + identifier + "' is already open");
		}
		List<DefaultEventSource> replaced = registration.replaced();
		for (int i = 0; i < replaced.size(); i++) {
			DefaultEventSource old = replaced.get(i);
			// It left the index here, so its own removal will not find it: its place goes to the new source, or is
			// released.
			if (takeOver && i == 0) {
				this.admission.handOver(old.remoteAddress(), address, sameClient);
			}
			else {
				this.admission.release(old.remoteAddress());
			}
			old.end(CloseReason.REPLACED, true, true, null, null);
		}
		this.lifecycle.started(source);
		if (this.replay) {
			this.dispatcher.join(source, resume, lastEventId);
		}
		return source;
	}

	/**
	 * A source for a {@code HEAD} request: the response carries the stream's headers only, so it is ended at once
	 * and never registered, counted or written to.
	 */
	private EventSource detached(@Nullable String identifier) {
		DefaultEventSource source = new DefaultEventSource(identifier, null, this.connections, DETACHED, null);
		source.end(CloseReason.CLIENT_GONE, false, false, null, null);
		return source;
	}

	// Sending

	@Override
	public boolean sendFrom(DefaultEventSource source, Object data) {
		return this.publisher.sendFrom(source, data);
	}

	@Override
	public int send(String identifier, Object data) {
		Assert.notNull(identifier, "Event source identifier must not be null");
		return this.publisher.send(identifier, data);
	}

	@Override
	public int sendToPrefix(String prefix, Object data) {
		Assert.notNull(prefix, "Identifier prefix must not be null");
		return this.publisher.sendToPrefix(prefix, data);
	}

	@Override
	public int broadcast(Object data) {
		return this.publisher.broadcast(data);
	}

	@Override
	public int broadcast(Object data, Predicate<String> identifierMatcher) {
		return this.publisher.broadcast(data, identifierMatcher);
	}

	@Override
	public void close(DefaultEventSource source) {
		this.publisher.close(source);
	}

	@Override
	public void ended(DefaultEventSource source) {
		this.targets.ended(source);
		if (this.index.remove(source)) {
			this.admission.release(source.remoteAddress());
		}
	}

	// Lookup

	@Override
	public Optional<EventSource> get(String identifier) {
		return this.index.get(identifier);
	}

	@Override
	public List<EventSource> find(Predicate<String> identifierMatcher) {
		return this.index.find(identifierMatcher);
	}

	@Override
	public List<EventSource> all() {
		return find((identifier) -> true);
	}

	@Override
	public Map<String, Integer> presence() {
		Map<String, Integer> presence = this.index.presence();
		this.eventLog.presence().forEach((identifier, count) -> presence.merge(identifier, count, Integer::sum));
		return presence;
	}

	@Override
	public int size() {
		return this.index.identifiedCount();
	}

	@Override
	public int connectionCount() {
		return this.admission.count();
	}

	// Lifecycle

	@Override
	public void start() {
		this.lifecycle.start();
	}

	/**
	 * Close every source with {@link CloseReason#SHUTDOWN}, sending the close event, and report back once all
	 * responses are complete, or after a few seconds if some client does not read.
	 */
	@Override
	public void stop(Runnable callback) {
		this.lifecycle.stop(callback);
	}

	@Override
	public void stop() {
		this.lifecycle.stop();
	}

	@Override
	public boolean isRunning() {
		return this.lifecycle.isRunning();
	}

	@Override
	public void destroy() {
		this.lifecycle.destroy();
	}

}
