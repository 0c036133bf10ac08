package io.github.sisksse;

import java.util.List;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpStatus;

/**
 * The way in and out of the registry for a source: admission within the {@link Admission} limits, registration in
 * the {@link SourceIndex} under the duplicate-identifier policy, the take-over of a replaced source's place when a
 * reconnecting client meets a limit, the start, and for a resuming client the joining of the log; then, when the
 * source has ended, the release of its place. A {@code HEAD} request gets a detached source that is never counted.
 * <p>
 * A place is taken once per source and given back once: by {@link #ended} while the source is in the index; for a
 * replaced source, here, when its successor's registration takes it out of the index (handed over to the successor
 * that took over, or released).
 * <p>
 * <b>Thread safety.</b> Stateless but for the thread-safe parts it is given; it only orders its calls to them. The
 * client's position in the log is read before the source exists, the source is known to the {@link Targets} before
 * it is in the index, and it is started (and so closed by a concurrent stop, see {@link RegistryLifecycle}) before
 * it joins the log, whose {@link Dispatcher} passes it by until then. It never calls the host it gives the sources.
 */
final class Gate {

	/** The host of a source that is never registered: it sends nothing, and closing it ends it at once. */
	static final SourceHost DETACHED = new SourceHost() {

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

	private final boolean replay;

	private final DuplicateIdentifierPolicy duplicates;

	private final RegistryLifecycle lifecycle;

	private final SourceHost host;

	/**
	 * Create a gate.
	 * @param parts the registry's parts
	 * @param lifecycle starts the sources and refuses new ones once stopped
	 * @param host the host of the registered sources, which they call; the gate does not
	 */
	Gate(RegistryParts parts, RegistryLifecycle lifecycle, SourceHost host) {
		this.connections = parts.connections();
		this.index = parts.index();
		this.admission = parts.admission();
		this.targets = parts.targets();
		this.log = parts.log();
		this.dispatcher = parts.dispatcher();
		this.replay = parts.replay();
		this.duplicates = parts.duplicates();
		this.lifecycle = lifecycle;
		this.host = host;
	}

	/**
	 * Open an anonymous source, as {@link EventSourceRegistry#open()}.
	 */
	EventSource open() {
		this.lifecycle.checkRunning();
		if (CurrentRequest.isHead()) {
			return detached(null);
		}
		String address = CurrentRequest.remoteAddress();
		EventSourceRejectedException refused = this.admission.tryAcquire(address);
		if (refused != null) {
			throw refused;
		}
		DefaultEventSource source = new DefaultEventSource(null, address, this.connections, this.host,
				this.log.resume(null));
		this.targets.opened(source);
		this.index.addAnonymous(source);
		this.lifecycle.started(source);
		return source;
	}

	/**
	 * Open a source with an identifier, as {@link EventSourceRegistry#open(String)}.
	 */
	EventSource open(String identifier) {
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
		DefaultEventSource source = new DefaultEventSource(identifier, address, this.connections, this.host,
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

	/**
	 * Forget an ended source and release its place, as {@link SourceHost#ended}: only if it was still
	 * in the index, since a replaced source's place was handed over or released when it left it.
	 */
	void ended(DefaultEventSource source) {
		this.targets.ended(source);
		if (this.index.remove(source)) {
			this.admission.release(source.remoteAddress());
		}
	}

}
