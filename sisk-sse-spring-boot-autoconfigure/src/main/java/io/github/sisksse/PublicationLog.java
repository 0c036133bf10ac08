package io.github.sisksse;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * This instance's copy of the {@link EventLog}: the entries it was fed, in log order, until the {@link Dispatcher}
 * has delivered them, then for replay within the bounds. Entries are numbered by a local sequence across epochs
 * (what the dispatcher walks), and carry their epoch and position in the log (what clients report). Positions are
 * written on the wire as {@code <epoch>-<position>}, so a position from another epoch (before the log was lost) is
 * recognised as such, never mistaken for a new one.
 * <p>
 * <b>Bounds.</b> Delivered entries are kept for replay within a number of entries, a number of bytes and an age,
 * whatever the number of streams (none at all when replay is off). Entries not yet delivered are always kept, up to
 * their own bounds: beyond them, taking an entry fails rather than growing without end.
 * <p>
 * <b>Thread safety.</b> Guarded by its own monitor (its {@link TargetIndex} too), held for O(1) steps, and to
 * copy out what a reconnecting client may have missed (found by binary search and the index). It calls no other code: filtering, which may run an application's
 * predicate, is the caller's, with no lock held.
 */
final class PublicationLog {

	static final int MAX_PENDING = 65_536;

	private static final long MAX_PENDING_BYTES = 256L * 1024 * 1024;

	private final int maxEntries;

	private final long maxBytes;

	private final long maxAgeNanos;

	// Guarded by the monitor

	private Publication[] ring = new Publication[64];

	/** Sequence of the oldest entry held; the copy is empty when it is {@code last + 1}. */
	private long first = 1;

	private long last;

	private long dispatched;

	private long bytes;

	private long pendingBytes;

	private final TargetIndex index = new TargetIndex();

	private String epoch = "";

	private int generation;

	/** The epochs of the last few generations, for the ids of clients that join while an older one is delivered. */
	private final java.util.Map<Integer, String> epochs = new java.util.LinkedHashMap<>() {

		@Override
		protected boolean removeEldestEntry(java.util.Map.Entry<Integer, String> eldest) {
			return size() > 16;
		}

	};

	/** The position of the newest entry of the current epoch, 0 before the first. */
	private long lastPosition;

	/**
	 * Create a copy.
	 * @param maxEntries how many delivered entries to keep for replay (0 for none)
	 * @param maxBytes how many bytes of delivered entries to keep for replay
	 * @param maxAge how long to keep a delivered entry for replay
	 */
	PublicationLog(int maxEntries, long maxBytes, Duration maxAge) {
		this.maxEntries = maxEntries;
		this.maxBytes = maxBytes;
		this.maxAgeNanos = maxAge.toNanos();
	}

	/**
	 * The log's epoch; a new one starts a new generation, whose positions start again.
	 */
	synchronized void epoch(String epoch) {
		if (!epoch.equals(this.epoch)) {
			this.epoch = epoch;
			this.generation++;
			this.epochs.put(this.generation, epoch);
			this.lastPosition = 0;
		}
	}

	/**
	 * Take the log's next entry.
	 * @return the entry, or {@code null} if its position is not after the last one (read twice)
	 * @throws IllegalStateException if so many entries wait to be delivered that nothing more is taken
	 */
	synchronized @Nullable Publication accept(long position, Publication.Target target, @Nullable String ownId,
			byte[] frame) {
		if (position <= this.lastPosition) {
			return null;
		}
		long seq = this.last + 1;
		Publication entry = new Publication(seq, this.generation, position, this.epoch, ownId, frame, target,
				System.nanoTime());
		if (seq - this.dispatched > MAX_PENDING || this.pendingBytes + entry.size() > MAX_PENDING_BYTES) {
			throw new IllegalStateException("Cannot publish: " + (seq - 1 - this.dispatched)
					+ " events are still waiting to be delivered");
		}
		if (seq - this.first == this.ring.length) {
			grow();
		}
		this.ring[index(seq)] = entry;
		this.index.added(entry);
		this.last = seq;
		this.lastPosition = position;
		this.bytes += entry.size();
		this.pendingBytes += entry.size();
		evict(entry.storedAtNanos());
		return entry;
	}

	/**
	 * Return the entry after this sequence number, for the dispatcher.
	 * @return the entry, or {@code null} when there is none yet
	 */
	synchronized @Nullable Publication next(long seq) {
		return (seq < this.last) ? this.ring[index(seq + 1)] : null;
	}

	/**
	 * The dispatcher delivered every entry up to this one: they now count against the replay bounds.
	 */
	synchronized void dispatched(Publication entry) {
		this.dispatched = entry.seq();
		this.pendingBytes -= entry.size();
		evict(System.nanoTime());
	}

	/**
	 * Return where a client that connects now resumes.
	 * @param lastEventId the {@code Last-Event-ID} it reported: a position of this log, or an id the application
	 * gave (resolved by the dispatcher, per stream); {@code null} for a client that starts afresh
	 */
	synchronized Resume resume(@Nullable String lastEventId) {
		if (lastEventId == null) {
			return new Resume(this.generation, this.lastPosition, null);
		}
		long position = parse(lastEventId);
		return (position >= 0) ? new Resume(this.generation, position, null)
				: new Resume(this.generation, this.lastPosition, lastEventId);
	}

	/**
	 * Return what is held of a generation after a position, up to a sequence number: the entries that may concern
	 * a stream (found through the {@link TargetIndex}, so the cost is what the stream is owed and the group entries,
	 * not every entry held), oldest first, for the caller to filter with no lock held; and enough to tell whether
	 * nothing is missing.
	 * @param generation the generation
	 * @param after the position after which to start
	 * @param upToSeq the sequence number of the newest entry to consider
	 * @param identifier the stream's identifier, or {@code null} for every entry held in that range
	 */
	synchronized Held held(int generation, long after, long upToSeq, @Nullable String identifier) {
		evict(System.nanoTime());
		long end = Math.min(upToSeq, this.last);
		// Entries are ordered by generation, then position: the first one after (generation, after) ...
		long low = firstAfter(generation, after, this.first, end + 1);
		// ... and the last one of that generation.
		long high = firstAfter(generation, Long.MAX_VALUE, low, end + 1) - 1;
		long count = high - low + 1;
		List<Publication> candidates = new ArrayList<>();
		if (identifier == null) {
			for (long seq = low; seq <= high; seq++) {
				candidates.add(this.ring[index(seq)]);
			}
		}
		else if (count > 0) {
			for (long seq : this.index.candidates(identifier, low, high)) {
				candidates.add(this.ring[index(seq)]);
			}
		}
		return (count > 0) ? new Held(candidates, count, this.ring[index(low)].position(), this.ring[index(high)].position())
				: new Held(candidates, 0, 0, 0);
	}

	/** The first sequence number in [low, high) whose entry comes after (generation, position), else high. */
	private long firstAfter(int generation, long position, long low, long high) {
		while (low < high) {
			long middle = (low + high) >>> 1;
			Publication entry = this.ring[index(middle)];
			if (entry.generation() < generation || (entry.generation() == generation && entry.position() <= position)) {
				low = middle + 1;
			}
			else {
				high = middle;
			}
		}
		return low;
	}

	/**
	 * Return how many identifiers the index holds entries for (bounded by the entries held).
	 */
	synchronized int indexedIdentifiers() {
		return this.index.identifiers();
	}

	/**
	 * Return the wire id of a position of a recent generation.
	 */
	synchronized String idOf(int generation, long position) {
		return Publication.wireId(this.epochs.getOrDefault(generation, this.epoch), position);
	}

	private long parse(String lastEventId) {
		int dash = lastEventId.lastIndexOf('-');
		if (dash != this.epoch.length() || !lastEventId.startsWith(this.epoch) || dash == lastEventId.length() - 1) {
			return -1;
		}
		try {
			return Long.parseLong(lastEventId, dash + 1, lastEventId.length(), 10);
		}
		catch (NumberFormatException ex) {
			return -1;
		}
	}

	/**
	 * Forget the oldest delivered entries beyond the replay bounds.
	 */
	private void evict(long now) {
		while (this.first <= this.dispatched) {
			Publication oldest = this.ring[index(this.first)];
			long retained = this.dispatched - this.first + 1;
			if (retained <= this.maxEntries && this.bytes - this.pendingBytes <= this.maxBytes
					&& now - oldest.storedAtNanos() <= this.maxAgeNanos) {
				return;
			}
			this.ring[index(this.first)] = null;
			this.index.removed(oldest);
			this.bytes -= oldest.size();
			this.first++;
		}
	}

	private void grow() {
		Publication[] larger = new Publication[this.ring.length * 2];
		for (long seq = this.first; seq <= this.last; seq++) {
			larger[(int) (seq & (larger.length - 1))] = this.ring[index(seq)];
		}
		this.ring = larger;
	}

	private int index(long seq) {
		return (int) (seq & (this.ring.length - 1));
	}

	/**
	 * Where a connecting client resumes: after this position of this generation; or, when it reported an id the
	 * application gave, after the entry of its stream that carries it (else at this position, after the reset
	 * event). A position of another epoch is not parsed: it comes as such an id, never found.
	 */
	record Resume(int generation, long after, @Nullable String ownId) {
	}

	/**
	 * What {@link #held} found: the entries that may concern the stream, and how many entries of the generation
	 * the range holds in all, with the positions of the first and the last.
	 */
	record Held(List<Publication> candidates, long count, long firstPosition, long lastPosition) {

		/**
		 * Return whether the range holds every entry after {@code after} up to {@code upTo}: none forgotten (the
		 * bounds), none skipped (a gap in the log).
		 */
		boolean isComplete(long after, long upTo) {
			return this.count == upTo - after
					&& (this.count == 0 || (this.firstPosition == after + 1 && this.lastPosition == upTo));
		}

	}

}
