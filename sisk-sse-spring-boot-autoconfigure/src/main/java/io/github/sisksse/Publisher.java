package io.github.sisksse;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Predicate;

import org.jspecify.annotations.Nullable;

import org.springframework.http.codec.ServerSentEvent;
import org.springframework.scheduling.TaskScheduler;

/**
 * The sending side of the registry: encodes an event once on the sender's thread and appends it to the
 * {@link EventLog} with who it is meant for; the {@link Dispatcher} delivers it, in log order, once the log feeds it
 * back. A send is O(1) whatever the number of connections: no sender queues anything for a connection itself.
 * <p>
 * <b>Thread safety.</b> Stateless but for the thread-safe parts it is given; the log orders concurrent sends. A
 * source's own sends and its close are appended under that source's lock, so that none is appended after its close.
 */
final class Publisher {

	private static final byte[] NO_EVENT = new byte[0];

	/**
	 * How long a closed source waits for the log to reach its close before it closes anyway: a log shared through a
	 * store may lose the entry (the store flushed), and the source must not stay half-closed for ever.
	 */
	private static final Duration CLOSE_DEADLINE = Duration.ofSeconds(30);

	private final EventEncoder encoder;

	private final SourceIndex index;

	private final EventLog log;

	private final Targets targets;

	private final Dispatcher dispatcher;

	private final TaskScheduler scheduler;

	Publisher(EventEncoder encoder, SourceIndex index, EventLog log, Targets targets, Dispatcher dispatcher,
			TaskScheduler scheduler) {
		this.scheduler = scheduler;
		this.encoder = encoder;
		this.index = index;
		this.log = log;
		this.targets = targets;
		this.dispatcher = dispatcher;
	}

	/**
	 * Send from one source, as {@link EventSource#send(Object)}.
	 * @return whether the source was open
	 */
	boolean sendFrom(DefaultEventSource source, Object data) {
		byte[] event = this.encoder.encode(data);
		String ownId = ownId(data);
		return source.sending(() -> append(this.targets.connection(source), ownId, event));
	}

	/**
	 * Send to a stream, as {@link EventSourceRegistry#send(String, Object)}.
	 * @return how many connections the stream had, here and on the other instances sharing the log
	 */
	int send(String identifier, Object data) {
		byte[] event = this.encoder.encode(data);
		int live = this.index.sources(identifier).size() + this.log.presence().getOrDefault(identifier, 0);
		append(this.targets.stream(identifier), ownId(data), event);
		return live;
	}

	/**
	 * Send to the streams with this prefix, as {@link EventSourceRegistry#sendToPrefix(String, Object)}.
	 * @return how many connections they had, here and on the other instances sharing the log
	 */
	int sendToPrefix(String prefix, Object data) {
		byte[] event = this.encoder.encode(data);
		Predicate<String> matcher = (identifier) -> identifier.startsWith(prefix);
		int live = this.index.count(matcher) + count(this.log.presence(), matcher);
		append(this.targets.prefix(prefix), ownId(data), event);
		return live;
	}

	/**
	 * Send to every source, as {@link EventSourceRegistry#broadcast(Object)}.
	 * @return how many connections there were: all of this instance's, and the identified ones of the others
	 */
	int broadcast(Object data) {
		byte[] event = this.encoder.encode(data);
		int live = this.index.count() + count(this.log.presence(), (identifier) -> true);
		append(this.targets.all(), ownId(data), event);
		return live;
	}

	/**
	 * Send to the matching streams of this instance, as {@link EventSourceRegistry#broadcast(Object, Predicate)}.
	 * @return how many connections they had
	 */
	int broadcast(Object data, Predicate<String> identifierMatcher) {
		byte[] event = this.encoder.encode(data);
		int live = this.index.count(identifierMatcher);
		append(this.targets.matching(identifierMatcher), ownId(data), event);
		return live;
	}

	/**
	 * Close a source from the application, in log order: it ends once what was sent before is delivered.
	 */
	void close(DefaultEventSource source) {
		boolean requested;
		try {
			requested = source.requestClose(() -> append(this.targets.closing(source), null, NO_EVENT));
		}
		catch (RuntimeException ex) {
			// The log cannot take it: close now, after what is already queued for it.
			source.end(CloseReason.CLOSED_BY_SERVER, true, true, null, null);
			return;
		}
		if (!requested) {
			return;
		}
		if (!this.dispatcher.wake()) {
			// Nothing is delivered any more (the registry is shutting down): close now.
			source.end(CloseReason.CLOSED_BY_SERVER, true, true, null, null);
			return;
		}
		ScheduledFuture<?> deadline = this.scheduler.schedule(
				() -> source.end(CloseReason.CLOSED_BY_SERVER, true, true, null, null),
				this.scheduler.getClock().instant().plus(CLOSE_DEADLINE));
		source.whenClosed().whenComplete((reason, ex) -> deadline.cancel(false));
	}

	private void append(String target, @Nullable String ownId, byte[] event) {
		try {
			this.log.append(new EventLog.Entry(target, ownId, event));
		}
		catch (RuntimeException ex) {
			this.targets.notAppended(target);
			throw ex;
		}
	}

	private static int count(Map<String, Integer> presence, Predicate<String> matcher) {
		int count = 0;
		for (Map.Entry<String, Integer> entry : presence.entrySet()) {
			if (matcher.test(entry.getKey())) {
				count += entry.getValue();
			}
		}
		return count;
	}

	private static @Nullable String ownId(Object data) {
		return (data instanceof ServerSentEvent<?> event) ? event.id() : null;
	}

}
