package io.github.sisksse;

import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * The offers of a {@link Dispatcher} turn to many sources, settled in groups: the sources that need a writer turn
 * are handed to the {@link WriterPool} together, so that queueing an event for thousands of sources is a tight
 * loop of O(1) steps with one wake-up per group, and no source is settled (which may end it and run listeners)
 * while its lock is held.
 * <p>
 * <b>Thread safety.</b> None: confined to the dispatcher's turn.
 */
final class Deliveries {

	private final List<WriterPool.Turn> turns = new ArrayList<>();

	private final List<DefaultEventSource> others = new ArrayList<>(0);

	private final List<SourceIntake.Offer> otherOffers = new ArrayList<>(0);

	/**
	 * Queue the event for the source, leaving what follows to {@link #settle(WriterPool)}.
	 */
	void offer(DefaultEventSource source, byte @Nullable [] idLine, byte[] event) {
		SourceIntake.Offer offer = source.enqueue(idLine, event);
		switch (offer) {
			case QUEUED, CLOSED -> {
			}
			case QUEUED_TURN -> this.turns.add(source.turn());
			default -> {
				// Overflows are rare: each is settled on its own (listeners, ending the source).
				this.others.add(source);
				this.otherOffers.add(offer);
			}
		}
	}

	/**
	 * Schedule the turns and settle the overflows; call with no lock held.
	 */
	void settle(WriterPool writers) {
		List<WriterPool.Turn> turns = List.copyOf(this.turns);
		this.turns.clear();
		try {
			writers.scheduleAll(turns);
		}
		finally {
			for (int i = 0; i < this.others.size(); i++) {
				this.others.get(i).settle(this.otherOffers.get(i));
			}
			this.others.clear();
			this.otherOffers.clear();
		}
	}

	/**
	 * Settle now if many turns are waiting, so that a long send does not keep them from the writers.
	 */
	void settleIfMany(WriterPool writers) {
		if (this.turns.size() >= 64) {
			settle(writers);
		}
	}


}
