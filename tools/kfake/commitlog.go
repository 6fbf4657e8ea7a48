package main

// The commit log: what a chaos test needs to judge duplicates. A consumer
// that re-reads records after a rebalance is correct only if it resumed from
// the last commit the broker acknowledged; to check that from outside, the test
// must know which commits were asked for and which were stored. Two kinds of
// line, fields separated by one space:
//
//	request <unix µs> <group> <generation> <member> <node> v<version> <topic> <partition> <offset>
//	stored  <unix µs> <group> <topic> <partition> <offset>
//
// "request" is an OffsetCommit as it reached the broker (one line per
// partition), whatever the answer. "stored" is a committed offset the broker
// holds, with the time kfake stored it; the group's commits are looked at every
// few milliseconds, so a commit that a later one replaced within that window
// may be missing (the later one is not). The topic of a v10+ request, which
// names topics by id, is resolved to its name.

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const commitPollEvery = 3 * time.Millisecond

type commitRequest struct {
	at         time.Time
	group      string
	generation int32
	member     string
	node       int32
	version    int16
	topic      string
	topicID    [16]byte
	partition  int32
	offset     int64
}

type storedKey struct {
	group, topic string
	partition    int32
}

type commitRecorder struct {
	cluster  *kfake.Cluster
	out      *bufio.Writer
	file     *os.File
	requests chan commitRequest
	dropped  int

	mu     sync.Mutex // guards groups
	groups map[string]bool

	stored   map[storedKey]kfake.GroupCommit
	idToName map[[16]byte]string
	done     chan struct{}
	stopOnce sync.Once
	stop     chan struct{}
}

func startCommitLog(ctx context.Context, cluster *kfake.Cluster, path string) (*commitRecorder, error) {
	file, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	r := &commitRecorder{
		cluster:  cluster,
		out:      bufio.NewWriter(file),
		file:     file,
		requests: make(chan commitRequest, 1<<16),
		groups:   map[string]bool{},
		stored:   map[storedKey]kfake.GroupCommit{},
		idToName: map[[16]byte]string{},
		done:     make(chan struct{}),
		stop:     make(chan struct{}),
	}
	// Observe only: returning "not handled" lets kfake answer the request as
	// usual, and keeps this function for the next one. It runs on kfake's
	// request loop, so it only copies and hands off, never blocks.
	cluster.ControlKey(int16(kmsg.OffsetCommit), func(req kmsg.Request) (kmsg.Response, error, bool) {
		commit, ok := req.(*kmsg.OffsetCommitRequest)
		if !ok {
			return nil, nil, false
		}
		r.mu.Lock()
		r.groups[commit.Group] = true
		r.mu.Unlock()
		now, node := time.Now(), cluster.CurrentNode()
		for _, t := range commit.Topics {
			for _, p := range t.Partitions {
				select {
				case r.requests <- commitRequest{now, commit.Group, commit.Generation, commit.MemberID, node,
					commit.Version, t.Topic, t.TopicID, p.Partition, p.Offset}:
				default:
					r.dropped++ // a writer this far behind: say so at the end instead of stalling kfake
				}
			}
		}
		return nil, nil, false
	})
	go r.run(ctx)
	return r, nil
}

func (r *commitRecorder) run(ctx context.Context) {
	defer close(r.done)
	ticker := time.NewTicker(commitPollEvery)
	defer ticker.Stop()
	for {
		select {
		case req := <-r.requests:
			r.writeRequest(req)
		case <-ticker.C:
			r.pollStored()
			r.out.Flush()
		case <-r.stop:
			r.drainRequests()
			r.pollStored()
			if r.dropped > 0 {
				fmt.Fprintf(r.out, "# %d request lines dropped (the log could not keep up)\n", r.dropped)
			}
			r.out.Flush()
			r.file.Close()
			return
		case <-ctx.Done():
			// finish() follows from main; keep serving until it says stop.
			ctx = context.Background()
		}
	}
}

func (r *commitRecorder) drainRequests() {
	for {
		select {
		case req := <-r.requests:
			r.writeRequest(req)
		default:
			return
		}
	}
}

// finish writes what is pending and the commits stored at this moment.
func (r *commitRecorder) finish() {
	r.stopOnce.Do(func() { close(r.stop) })
	<-r.done
}

func (r *commitRecorder) topicName(name string, id [16]byte) string {
	if name != "" {
		return name
	}
	if n, ok := r.idToName[id]; ok {
		return n
	}
	if info := r.cluster.TopicIDInfo(id); info != nil {
		r.idToName[id] = info.Topic
		return info.Topic
	}
	return "id:" + hex.EncodeToString(id[:])
}

func (r *commitRecorder) writeRequest(q commitRequest) {
	member := q.member
	if member == "" {
		member = "-"
	}
	fmt.Fprintf(r.out, "request %d %s %d %s %d v%d %s %d %d\n", q.at.UnixMicro(), q.group, q.generation,
		member, q.node, q.version, r.topicName(q.topic, q.topicID), q.partition, q.offset)
}

func (r *commitRecorder) pollStored() {
	r.mu.Lock()
	groups := make([]string, 0, len(r.groups))
	for g := range r.groups {
		groups = append(groups, g)
	}
	r.mu.Unlock()
	sort.Strings(groups)
	for _, g := range groups {
		info := r.cluster.GroupInfo(g)
		if info == nil {
			continue
		}
		type line struct {
			key    storedKey
			commit kfake.GroupCommit
		}
		var changed []line
		for topic, partitions := range info.Commits {
			for p, c := range partitions {
				k := storedKey{g, topic, p}
				if prev, ok := r.stored[k]; ok && prev.Offset == c.Offset && prev.At.Equal(c.At) {
					continue
				}
				r.stored[k] = c
				changed = append(changed, line{k, c})
			}
		}
		sort.Slice(changed, func(i, j int) bool { return changed[i].commit.At.Before(changed[j].commit.At) })
		for _, l := range changed {
			fmt.Fprintf(r.out, "stored %d %s %s %d %d\n", l.commit.At.UnixMicro(), g, l.key.topic,
				l.key.partition, l.commit.Offset)
		}
	}
}
