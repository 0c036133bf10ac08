package io.github.sisksse;

import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * The offers of one send to many sources, settled once every lock is released: the sources that need a writer
 * turn are handed to the {@link WriterPool} in one go, so that queueing an event for thousands of sources is a
 * tight loop of O(1) steps that wakes no worker until it is done.
 * <p>
 * <b>Thread safety.</b> None: confined to the sending thread.
 */
final class Deliveries {

	private final List<WriterPool.Turn> turns = new ArrayList<>();

	private final List<DefaultEventSource> others = new ArrayList<>(0);

	private final List<DefaultEventSource.Offer> otherOffers = new ArrayList<>(0);

	private int queued;

	/**
	 * Queue the event for the source, leaving what follows to {@link #settle(WriterPool)}.
	 */
	void offer(DefaultEventSource source, byte @Nullable [] idLine, byte[] event) {
		add(source, source.enqueue(idLine, event, false));
	}

	void add(DefaultEventSource source, DefaultEventSource.Offer offer) {
		switch (offer) {
			case QUEUED -> this.queued++;
			case QUEUED_TURN -> {
				this.queued++;
				this.turns.add(source.turn());
			}
			case CLOSED -> {
			}
			default -> {
				// Overflows are rare: each is settled on its own (listeners, ending the source).
				this.others.add(source);
				this.otherOffers.add(offer);
			}
		}
	}

	/**
	 * Schedule the turns and settle the overflows; call with no lock held.
	 * @return how many sources the event was queued for
	 */
	int settle(WriterPool writers) {
		List<WriterPool.Turn> turns = List.copyOf(this.turns);
		this.turns.clear();
		try {
			writers.scheduleAll(turns);
		}
		finally {
			for (int i = 0; i < this.others.size(); i++) {
				this.queued += this.others.get(i).settle(this.otherOffers.get(i)) ? 1 : 0;
			}
			this.others.clear();
			this.otherOffers.clear();
		}
		return this.queued;
	}

	/**
	 * Settle now if many turns are waiting, so that a long send does not keep them from the writers.
	 */
	void settleIfMany(WriterPool writers) {
		if (this.turns.size() >= 64) {
			settle(writers);
		}
	}

	/**
	 * Return how many sources the event was queued for, once settled.
	 */
	int queued() {
		return this.queued;
	}

}
