package io.pulse.ingest;

import io.pulse.agg.ShardBatch;
import java.util.ArrayList;
import java.util.List;

/**
 * One request body taken into Pulse a slice at a time, so that a large body (up to
 * ingest.maxBodyBytes, 16 MiB by default) never holds an event loop for long: each {@link #step()}
 * does at most {@code slice} units of work (an event parsed, a rejection quarantined or an event
 * routed) and {@code sliceBytes} of parsing, and the caller runs the next step on a later turn of its
 * loop. A body small enough for one slice (W1's bodies of 50 or 1,000 events) is done in one step.
 *
 * <p>The answer is the one {@link EventParser#parse} and {@link Ingestor#ingest(ParseResult, String, long, String)}
 * give in one go: the whole body is parsed before anything of it is kept, so a body that cannot be read
 * (400) or holds too many events (413) leaves no trace, as before; then its rejections are quarantined
 * and its events routed, slice by slice, each slice's shard batches handed out by the step that routed
 * them. Once routing began, the job must be run to its end: stopping would keep part of a body.
 *
 * <p>Not thread-safe: run every step on one thread (the event loop of the request), whose
 * {@link EventParser} it uses.
 */
public final class IngestJob {

  /** Units of work per step: about 1-3 ms at the hot path's 300-500 ns an event. */
  public static final int SLICE = 4096;
  /** Bytes parsed per step at most (a step ends after the event that crosses it). */
  public static final int SLICE_BYTES = 512 * 1024;

  private static final ShardBatch[] NONE = new ShardBatch[0];

  private final EventParser.Parse parse;
  private final Ingestor ingestor;
  private final String tenant;
  private final long now;
  private final String source;
  private final int slice;
  private final int sliceBytes;
  private ParseResult parsed;
  private List<Rejection> rejections;
  private int quarantined;
  private int routed;
  private int accepted;
  private int late;
  private int overflowed;
  private String overflowNote;
  /** The streams the caller may send events to; null for any. */
  private java.util.function.Predicate<String> mayWrite;
  /** Cluster mode: valid events go here, to be produced to Kafka, instead of being routed to shards. */
  private java.util.function.Consumer<List<io.pulse.event.Event>> forward;

  /** A job with the default slices, for a body sent by a caller of {@code tenant}. */
  public IngestJob(EventParser parser, Ingestor ingestor, byte[] body, BodyFormat format, String tenant,
      String pathStream, long now, String source) {
    this(parser, ingestor, body, format, tenant, pathStream, now, source, SLICE, SLICE_BYTES);
  }

  public IngestJob(EventParser parser, Ingestor ingestor, byte[] body, BodyFormat format, String tenant,
      String pathStream, long now, String source, int slice, int sliceBytes) {
    if (slice < 1 || sliceBytes < 1) {
      throw new IllegalArgumentException("slices must be positive");
    }
    this.parse = parser.start(body, format, tenant, pathStream, now);
    this.ingestor = ingestor;
    this.tenant = tenant;
    this.now = now;
    this.source = source;
    this.slice = slice;
    this.sliceBytes = sliceBytes;
  }

  /**
   * Limits the streams this body's events may go to (a token's narrowed ingest scope): events of
   * other streams are rejected, each with the reason. Before the first {@link #step()}.
   */
  public IngestJob onlyStreams(java.util.function.Predicate<String> mayWrite) {
    this.mayWrite = mayWrite;
    return this;
  }

  /**
   * Hands valid events to {@code to} (cluster mode: they go to Kafka, and the instance that owns
   * their partition routes them) instead of routing them here. They are admitted here first (a
   * stream past the caps refused, a new series past them folded into the overflow series, see
   * {@link Ingestor#admit}), so the records carry the decision. Before the first {@link #step()}.
   */
  public IngestJob forwardTo(java.util.function.Consumer<List<io.pulse.event.Event>> to) {
    this.forward = to;
    return this;
  }

  /**
   * Does the next slice of work.
   *
   * @return the shard batches routed by this step, to send to the shards now (empty while parsing)
   * @throws BodyException when the body as a whole cannot be read or is too large; nothing of it is kept
   */
  public ShardBatch[] step() {
    int budget = slice;
    if (parsed == null) {
      budget -= parse.step(budget, sliceBytes);
      if (!parse.done()) {
        return NONE;
      }
      parsed = parse.result();
      rejections = new ArrayList<>(parsed.rejections());
    }
    int bad = parsed.rejections().size();
    if (quarantined < bad && budget > 0) {
      int to = (int) Math.min(bad, (long) quarantined + budget);
      ingestor.quarantine(parsed, tenant, quarantined, to, now, source);
      budget -= to - quarantined;
      quarantined = to;
    }
    int good = parsed.events().size();
    if (quarantined < bad || routed == good || budget <= 0) {
      return NONE;
    }
    int to = (int) Math.min(good, (long) routed + budget);
    if (forward != null) { // cluster mode: admitted here, aggregated by the owner of each event's partition
      List<io.pulse.event.Event> kept = new ArrayList<>(to - routed);
      Ingestor.Outcome o = ingestor.admit(parsed, routed, to, now, source, mayWrite, kept);
      routed = to;
      accepted += o.accepted();
      overflowed += o.overflowed();
      rejections.addAll(o.rejections());
      overflowNote = ingestor.worseNote(overflowNote, o.overflowNote());
      forward.accept(kept);
      return NONE;
    }
    Ingestor.Outcome o = mayWrite == null ? ingestor.route(parsed, routed, to, now, source)
        : ingestor.route(parsed, routed, to, now, source, mayWrite);
    routed = to;
    accepted += o.accepted();
    late += o.late();
    overflowed += o.overflowed();
    rejections.addAll(o.rejections());
    overflowNote = ingestor.worseNote(overflowNote, o.overflowNote());
    return o.batches();
  }

  /**
   * Whether the body is parsed and its events are being kept: from here on the job must run to its
   * end. Before, dropping it keeps nothing of the body.
   */
  public boolean routing() {
    return parsed != null;
  }

  /** When the body arrived: processing time of its events. */
  public long now() {
    return now;
  }

  /** Whether every event of the body is parsed and quarantined or routed. */
  public boolean done() {
    return parsed != null && quarantined == parsed.rejections().size() && routed == parsed.events().size();
  }

  /**
   * What became of the body's events, once {@link #done()}: the counts and rejections of the answer
   * (rejections of parsing first, then those of routing; each part in body order). Its batches are
   * empty: every step handed out its own.
   */
  public Ingestor.Outcome outcome() {
    if (!done()) {
      throw new IllegalStateException("the body is not taken in yet");
    }
    return new Ingestor.Outcome(NONE, accepted, late, overflowed, rejections, overflowNote);
  }
}
