package io.github.sisksse;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.http.codec.ServerSentEvent;

/**
 * Joins a connection to the log for the {@link Dispatcher}, between two entries: finds what it is owed since the
 * position its client resumes from ({@link #plan}), in this instance's {@link PublicationLog}, and queues it on the
 * connection, with the reset event when that position was lost and the connection's new position; from then on
 * the connection receives the later entries live. A client resumes from a position of the log, or from an id the
 * application gave an event, looked up among the entries of its stream.
 * <p>
 * <b>Thread safety.</b> None of its own, and none needed: it is called by the dispatcher's thread only, which
 * passes it how far it has delivered (kept in fields of the dispatcher's, touched by that thread only), and its
 * own fields are final. The log has its own lock, held only while it copies out what it holds; each connection's
 * is taken by {@link SourceIntake#join} to queue the frames. No lock is held while an application's
 * predicate, a listener or the ending of a connection runs.
 */
final class Resumption {

	// The dispatcher's category, which applications configure.
	private static final Log logger = LogFactory.getLog(Dispatcher.class);

	private final PublicationLog log;

	private final EventEncoder encoder;

	private final boolean siblings;

	private final String resetEventName;

	private final Listeners listeners;

	/**
	 * Create the joins of a dispatcher.
	 * @param log this instance's copy of the log, which the dispatcher delivers
	 * @param encoder encodes the reset event
	 * @param siblings whether a stream may have several connections at once
	 * @param resetEventName the name of the event that tells a client its position was lost
	 * @param listeners hear of the replays
	 */
	Resumption(PublicationLog log, EventEncoder encoder, boolean siblings, String resetEventName,
			Listeners listeners) {
		this.log = log;
		this.encoder = encoder;
		this.siblings = siblings;
		this.resetEventName = resetEventName;
		this.listeners = listeners;
	}

	/**
	 * Join a connection to the log, after the last entry delivered: it is queued what it missed, then receives
	 * the later entries live. It is never left unjoined, and so silent: should finding what it missed fail, it
	 * resumes live from here after the reset event, or, should even that fail, it ends (its client reconnects).
	 * A connection that the application closed before it joined is closed right after.
	 * @param join the connection, and where its client resumes
	 * @param delivered the sequence number of the last entry delivered
	 * @param deliveredGeneration the generation of the last entry delivered
	 * @param deliveredPosition the position of the last entry delivered
	 */
	void join(Join join, long delivered, int deliveredGeneration, long deliveredPosition) {
		DefaultEventSource source = join.source();
		try {
			joinNow(join, delivered, deliveredGeneration, deliveredPosition);
		}
		catch (Throwable ex) {
			try {
				logger.warn("Failed to replay what " + source + " missed; it is sent the reset event", ex);
				source.join(List.of(), resetEvent((join.reported() != null) ? join.reported() : ""),
						idFrame(deliveredGeneration, deliveredPosition), deliveredGeneration, deliveredPosition + 1);
			}
			catch (Throwable again) {
				source.end(CloseReason.ERROR, false, false, null, again);
			}
		}
		if (source.closeAfterJoin) {
			source.end(CloseReason.CLOSED_BY_SERVER, true, true, null, null);
		}
	}

	private void joinNow(Join join, long delivered, int deliveredGeneration, long deliveredPosition) {
		DefaultEventSource source = join.source();
		Plan plan = plan(source, join.resume(), delivered, deliveredGeneration, deliveredPosition);
		byte[] reset = plan.lost() ? resetEvent((join.reported() != null) ? join.reported() : "") : null;
		source.join(plan.missed(), reset, idFrame(plan.generation(), plan.position()), plan.generation(),
				plan.position() + 1);
		String reported = join.reported();
		if (reported != null && source.isOpen()) {
			int replayed = plan.lost() ? -1 : plan.missed().size();
			this.listeners.notify((listener) -> listener.onReplay(source, reported, replayed));
		}
	}

	/**
	 * Find what a joining connection is owed, given how far the dispatcher has delivered.
	 * @param source the joining connection, which has an identifier
	 * @param resume where its client resumes
	 * @param delivered the sequence number of the last entry delivered (0 before the first)
	 * @param deliveredGeneration the generation of the last entry delivered
	 * @param deliveredPosition the position of the last entry delivered
	 */
	Plan plan(DefaultEventSource source, PublicationLog.Resume resume, long delivered, int deliveredGeneration,
			long deliveredPosition) {
		String identifier = Objects.requireNonNull(source.identifier());
		int generation = resume.generation();
		long position = resume.after();
		boolean lost = false;
		List<Publication> missed = List.of();
		if (generation == deliveredGeneration || delivered == 0) {
			long upTo = (generation == deliveredGeneration) ? deliveredPosition : 0;
			if (resume.ownId() != null) {
				// The application's own id: the newest entry of this stream that carries it.
				long found = findOwnId(this.log.held(generation, 0, delivered, identifier).candidates(),
						resume.ownId(), source, identifier);
				lost = found < 0;
				position = lost ? position : found;
			}
			if (position < upTo) {
				// Behind what was delivered here: replayed, unless some of it was forgotten (then: reload). A
				// client ahead of this copy of the log (it came from an instance that read further) is replayed
				// nothing: what it has is passed by when it arrives.
				PublicationLog.Held held = this.log.held(generation, position, delivered, identifier);
				if (held.isComplete(position, upTo)) {
					missed = matching(held.candidates(), source, identifier);
				}
				else {
					lost = true;
				}
				position = upTo;
			}
		}
		else if (generation < deliveredGeneration) {
			// The log's history was lost since the client connected: it resumes in the new epoch, from scratch.
			lost = true;
			generation = deliveredGeneration;
			position = deliveredPosition;
		}
		return new Plan(missed, lost, generation, position);
	}

	private long findOwnId(List<Publication> held, String ownId, DefaultEventSource source, String identifier) {
		for (int i = held.size() - 1; i >= 0; i--) {
			Publication entry = held.get(i);
			if (ownId.equals(entry.ownId()) && replaysTo(entry, source, identifier)) {
				return entry.position();
			}
		}
		return -1;
	}

	private List<Publication> matching(List<Publication> held, DefaultEventSource source, String identifier) {
		List<Publication> matching = new ArrayList<>();
		for (Publication entry : held) {
			if (replaysTo(entry, source, identifier)) {
				matching.add(entry);
			}
		}
		return matching;
	}

	/**
	 * Whether a joining connection is owed an entry; an application predicate that fails counts as "no", as it
	 * does when delivering live.
	 */
	private boolean replaysTo(Publication entry, DefaultEventSource source, String identifier) {
		try {
			return entry.target().replaysTo(source, identifier, this.siblings);
		}
		catch (RuntimeException ex) {
			logger.warn("Failed to tell whether " + source + " missed " + entry.target(), ex);
			return false;
		}
	}

	private byte[] idFrame(int generation, long position) {
		return ("id: " + this.log.idOf(generation, position) + "\n\n").getBytes(StandardCharsets.UTF_8);
	}

	private byte[] resetEvent(String lostId) {
		try {
			return this.encoder.encode(ServerSentEvent.builder(lostId).event(this.resetEventName).build());
		}
		catch (RuntimeException ex) {
			return this.encoder.encode(ServerSentEvent.builder("").event(this.resetEventName).build());
		}
	}

	/**
	 * A connection waiting to join.
	 * @param source the connection, created with no live position
	 * @param resume where its client resumes
	 * @param reported the {@code Last-Event-ID} its client reported, if any, so that listeners hear of the replay
	 */
	record Join(DefaultEventSource source, PublicationLog.Resume resume, @Nullable String reported) {
	}

	/**
	 * What a joining connection is owed.
	 * @param missed the entries it missed, oldest first
	 * @param lost whether its client's position was lost, so that it is sent the reset event first
	 * @param generation the generation it resumes in
	 * @param position the position after which it receives the entries of that generation live
	 */
	record Plan(List<Publication> missed, boolean lost, int generation, long position) {
	}

}
