package io.github.sisksse;

import java.util.ArrayDeque;
import java.util.Iterator;

import org.jspecify.annotations.Nullable;

/**
 * The frames waiting to be written to one connection, with the bounds that keep a client that does not read
 * from holding more than its share of memory.
 * <p>
 * <b>Thread safety.</b> Its monitor is the connection's one lock, and every method is called with it held (by the
 * connection's parts, which it guards too). It does no I/O and calls no other code; its methods return what the
 * caller must do next.
 * <p>
 * <b>Bounds.</b> Application events count against {@code maxEvents} and {@code maxBytes}, and so does the batch
 * handed to the network that the network has not yet accepted ({@link #inFlight}). Replayed events, pings and
 * control frames are not counted: the log bounds the first, and a ping is only queued when nothing waits.
 */
final class OutboundQueue {

	/** How many bytes one writer turn takes at most (one frame more if a single frame is larger). */
	static final int MAX_BATCH_BYTES = 64 * 1024;

	private final ArrayDeque<Frame> frames = new ArrayDeque<>();

	private final int maxEvents;

	private final long maxBytes;

	private final OverflowPolicy overflow;

	private int events;

	private long bytes;

	private long inFlight;

	OutboundQueue(int maxEvents, long maxBytes, OverflowPolicy overflow) {
		this.maxEvents = maxEvents;
		this.maxBytes = maxBytes;
		this.overflow = overflow;
	}

	/**
	 * Queue an application event, applying the overflow policy when the bounds are reached.
	 * @param idLine the {@code id:} line, {@code null} when the event carries its own id
	 * @param event the encoded event
	 * @return what happened
	 */
	Offer offer(byte @Nullable [] idLine, byte[] event) {
		Offer result = Offer.QUEUED;
		if (isFull(event.length)) {
			if (this.overflow == OverflowPolicy.CLOSE) {
				return Offer.OVERFLOWED;
			}
			if (dropOldestUntilFits(event.length)) {
				result = Offer.DROPPED_OLDEST;
			}
		}
		this.frames.add(new Frame(idLine, event, Frame.Kind.EVENT));
		this.events++;
		this.bytes += event.length;
		return result;
	}

	/**
	 * Whether one more event of this length breaks a bound. An empty queue always takes one event, whatever its
	 * size and whatever is in flight, so that a large event does not close a client that reads.
	 */
	private boolean isFull(int length) {
		return this.events > 0
				&& (this.events >= this.maxEvents || this.bytes + this.inFlight + length > this.maxBytes);
	}

	/**
	 * @return whether any event was dropped
	 */
	private boolean dropOldestUntilFits(int length) {
		boolean dropped = false;
		Iterator<Frame> queued = this.frames.iterator();
		while (this.events > 0 && queued.hasNext() && isFull(length)) {
			Frame frame = queued.next();
			if (frame.kind() == Frame.Kind.EVENT) {
				queued.remove();
				this.events--;
				this.bytes -= frame.bytes().length;
				dropped = true;
			}
		}
		return dropped;
	}

	/**
	 * Queue a frame that is never refused: the opening line, a replayed event, the close event.
	 */
	void add(Frame frame) {
		this.frames.add(frame);
	}

	/**
	 * Queue a ping, unless anything waits to be written or is still in flight: that keeps the connection busy
	 * anyway, and a client that does not read must not collect pings.
	 * @return whether the ping was queued
	 */
	boolean offerPing(byte[] ping) {
		if (!this.frames.isEmpty() || this.inFlight > 0) {
			return false;
		}
		this.frames.add(new Frame(null, ping, Frame.Kind.PING));
		return true;
	}

	boolean isEmpty() {
		return this.frames.isEmpty();
	}

	/**
	 * Return the number of application events waiting.
	 */
	int events() {
		return this.events;
	}

	/**
	 * Drop everything queued, for an abrupt close.
	 */
	void clear() {
		this.frames.clear();
		this.events = 0;
		this.bytes = 0;
		this.inFlight = 0;
	}

	/**
	 * Take the next batch, at most {@link #MAX_BATCH_BYTES} (or one larger frame), as one array ready to write.
	 * Its events count as in flight until {@link #accepted()}.
	 * @return the batch, or {@code null} if nothing is queued
	 */
	@Nullable Batch take() {
		if (this.frames.isEmpty()) {
			return null;
		}
		int length = 0;
		int count = 0;
		for (Frame frame : this.frames) {
			int next = frame.length();
			if (count > 0 && length + next > MAX_BATCH_BYTES) {
				break;
			}
			length += next;
			count++;
		}
		byte[] out = new byte[length];
		int offset = 0;
		int taken = 0;
		int application = 0;
		int pings = 0;
		long eventBytes = 0;
		boolean activity = false;
		for (int i = 0; i < count; i++) {
			Frame frame = this.frames.poll();
			offset = frame.writeTo(out, offset);
			switch (frame.kind()) {
				case EVENT -> {
					taken++;
					application++;
					eventBytes += frame.bytes().length;
					activity = true;
				}
				case REPLAYED -> {
					taken++;
					activity = true;
				}
				case PING -> pings++;
				case CONTROL -> {
				}
			}
		}
		this.events -= application;
		this.bytes -= eventBytes;
		this.inFlight += eventBytes;
		return new Batch(out, taken, pings, activity);
	}

	/**
	 * The network accepted everything handed to it: nothing is in flight any more.
	 */
	void accepted() {
		this.inFlight = 0;
	}

	/**
	 * What {@link #offer} did.
	 */
	enum Offer {

		/** Queued. */
		QUEUED,

		/** Queued after dropping older events ({@link OverflowPolicy#DROP_OLDEST}). */
		DROPPED_OLDEST,

		/** Not queued: the bounds are reached and the policy is {@link OverflowPolicy#CLOSE}. */
		OVERFLOWED

	}

	/**
	 * One writer turn's bytes.
	 *
	 * @param bytes the wire bytes
	 * @param events how many events (application or replayed) they hold
	 * @param pings how many pings they hold
	 * @param activity whether they hold an event, which restarts the idle timeout
	 */
	record Batch(byte[] bytes, int events, int pings, boolean activity) {
	}

}
