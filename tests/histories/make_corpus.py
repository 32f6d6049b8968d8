import json, os
# Regenerates good/ and bad/ (run from anywhere): python3 tests/histories/make_corpus.py
base=os.path.dirname(os.path.abspath(__file__))
MS=1_000_000
def hdr(note): return {"format":"s3conform-history","version":2,"seed":None,"endpoint":None,"profile":None,"note":note}
class H:
    def __init__(s): s.ops=[]
    def op(s,client,call,ret,req,out,key="k"):
        s.ops.append({"id":len(s.ops),"client":client,"key":key,"call_ns":call*MS,"ret_ns":ret*MS,"req":req,"out":out})
        return s
def E(x): return '"%s"'%x
def put(w,etag=None,im=None,inm=None,via="put",src=None,init=None):
    r={"type":"put","write_id":w,"etag_if_applied":E(etag) if etag else None,"if_match":im,"if_none_match":inm,"via":via}
    if src: r["source_key"]=src
    if init is not None: r["initiated_ns"]=init*MS
    return r
def mpu(w,init,etag=None,im=None,inm=None): return put(w,etag,im,inm,via="complete_multipart",init=init)
def copy(src,im=None,inm=None): return put(None,None,im,inm,via="copy",src=src)
def nf(code): return {"type":"not_found","code":code}
def get(im=None,inm=None): return {"type":"get","if_match":im,"if_none_match":inm}
def head(im=None,inm=None): return {"type":"head","if_match":im,"if_none_match":inm}
def dele(im=None): return {"type":"delete","if_match":im}
def ok(etag=None,wid=None,status=200): return {"type":"ok","status":status,"etag":E(etag) if etag else None,"write_id":wid}
def d204(): return {"type":"ok","status":204,"etag":None,"write_id":None}
P={"type":"precondition_failed"}; NF={"type":"not_found"}; C409={"type":"conflict"}
def nm(etag=None): return {"type":"not_modified","etag":E(etag) if etag else None}
def amb(cause="timeout"): return {"type":"ambiguous","cause":cause,"status":None}
files={}
# ---- good
files['good/cas-chain']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,0,12,put("w2","a2",inm="*"),P).op(2,20,30,get(),ok("a1","w1")).op(2,40,50,put("w3","a3",im=E("a1")),ok("a3")).op(1,35,45,put("w4","a4",im=E("a1")),P).op(3,60,70,head(),ok("a3","w3"))
files['good/if-match-on-absent-404-or-412']=H().op(1,0,10,put("w1","a1",im=E("zz")),NF).op(2,0,10,put("w2","a2",im=E("zz")),P).op(3,0,10,dele(E("zz")),P).op(4,0,10,get(im=E("zz")),NF)
files['good/concurrent-creates-one-wins']=H().op(1,0,50,put("w1","a1",inm="*"),P).op(2,0,50,put("w2","a2",inm="*"),ok("a2")).op(3,0,50,put("w3","a3",inm="*"),C409).op(4,60,70,get(),ok("a2","w2"))
files['good/ambiguous-write-applied']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,30,put("w2","a2",im=E("a1")),amb()).op(3,100,110,get(),ok("a2","w2"))
files['good/ambiguous-write-not-applied']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,30,put("w2","a2",im=E("a1")),amb("reset")).op(3,100,110,get(),ok("a1","w1")).op(4,120,130,put("w4","a4",im=E("a1")),ok("a4"))
files['good/ambiguous-write-explains-412']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,30,put("w2","a2",im=E("a1")),amb()).op(3,100,110,put("w3","a3",im=E("a1")),P)
files['good/delete-and-recreate']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,30,dele(E("a1")),d204()).op(3,40,50,get(),NF).op(1,60,70,put("w2","a2",inm="*"),ok("a2")).op(3,80,90,get(),ok("a2","w2")).op(2,95,99,dele(),d204()).op(2,100,105,dele(),d204())
files['good/blind-writes-overlapping']=H().op(1,0,30,put("w1","a1"),ok("a1")).op(2,5,25,put("w2","a2"),ok("a2")).op(3,40,50,get(),ok("a1","w1")).op(4,40,50,get(),ok("a1","w1"))
files['good/conditional-reads']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,30,get(inm=E("a1")),nm("a1")).op(2,31,35,get(im=E("a1")),ok("a1","w1")).op(3,20,30,head(im=E("zz")),P).op(3,31,35,get(inm="*"),nm()).op(3,36,39,get(inm=E("zz")),ok("a1","w1"))
files['good/copy-into-key']=H().op(5,0,5,put("w77","s77",inm="*"),ok("s77"),key="src").op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,30,put(None,None,im=E("a1"),via="copy",src="src"),ok("c9")).op(3,40,50,get(),ok("c9","w77")).op(3,51,55,get(inm=E("c9")),nm("c9"))
files['good/409-during-concurrent-write']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,40,put("w2","a2",im=E("a1")),ok("a2")).op(3,25,35,put("w3","a3",im=E("a1")),C409).op(4,25,35,put("w4","a4",im=E("a1")),{"type":"rejected","status":400,"code":"InvalidRequest"})
files['good/two-keys']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1"),key="x").op(2,0,10,put("w2","b1",inm="*"),ok("b1"),key="y").op(3,20,30,get(),ok("a1","w1"),key="x").op(4,20,30,get(),ok("b1","w2"),key="y")
# Multipart: the upload's span justifies a 409; the write itself lands within the Complete call.
files['good/multipart-409-justified-by-a-write-during-the-upload']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,50,60,mpu("w2",15,"m2-1",im=E("a1")),C409).op(3,20,30,put("w3","a3",im=E("a1")),ok("a3")).op(4,70,80,get(),ok("a3","w3"))
files['good/multipart-no-such-upload-says-nothing-about-the-key']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,30,mpu("w2",15,"m2-1"),nf("NoSuchUpload")).op(3,40,50,get(),ok("a1","w1")).op(4,50,60,mpu("w4",45,"m4-1",im=E("a1")),nf(None)).op(3,70,80,get(),ok("a1","w1"))
files['good/multipart-written-within-the-complete-call']=H().op(2,30,40,mpu("w2",0,"m2-1"),ok("m2-1")).op(1,10,20,put("w1","a1"),ok("a1")).op(3,50,60,get(),ok("m2-1","w2"))
# ETags that are not MD5s (SSE-KMS, many S3-compatible stores): predictions are not trusted.
files['good/ambiguous-write-with-non-md5-etags']=H().op(1,0,10,put("w1","0cc175b9c0f1b6a831c399e26977"),ok("1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c")).op(2,20,30,put("w2","92eb5ffee6ae2fec3ad71c777531",im=E("1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c")),amb()).op(3,100,110,get(),ok("9f8e7d6c5b4a39281706f5e4d3c2b1","w2")).op(3,120,130,get(inm=E("9f8e7d6c5b4a39281706f5e4d3c2b1")),nm("9f8e7d6c5b4a39281706f5e4d3c2b1"))
# Status conventions some vendor documents: GET If-None-Match: * answered 200 (moto, LocalStack,
# Ceph RGW); GET If-Match on a missing key answered 412 (RFC 7232); a conditional DELETE of a
# missing key answered 204 (ceph/s3-tests).
files['good/documented-status-conventions']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,30,get(inm="*"),ok("a1","w1")).op(2,31,35,head(inm="*"),nm("a1")).op(3,40,50,dele(E("a1")),d204()).op(2,60,70,get(im=E("a1")),P).op(2,71,75,head(im=E("a1")),NF).op(3,80,90,dele(E("a1")),d204()).op(4,80,90,dele(E("a1")),P).op(2,100,110,get(),NF)
# A status no convention gives in any state is a conformance note, not an anomaly.
files['good/unknown-convention-is-a-note']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,30,get(),P).op(2,40,50,put("w2","a2"),nm()).op(3,60,70,get(),ok("a1","w1"))
# 409s: any overlapping mutating request excuses one, whatever its outcome.
files['good/409-overlapping-only-a-failed-conditional-write']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,40,put("w2","a2",im=E("zz")),P).op(3,25,35,put("w3","a3",im=E("a1")),C409).op(4,50,60,get(),ok("a1","w1"))
# ---- bad
files['bad/lost-update--both-if-match-succeed']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,30,put("w2","a2",im=E("a1")),ok("a2")).op(3,20,30,put("w3","a3",im=E("a1")),ok("a3"))
files['bad/double-create--two-creates-succeed']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,5,15,put("w2","a2",inm="*"),ok("a2"))
files['bad/stale-read--after-cas-completed']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,30,put("w2","a2",im=E("a1")),ok("a2")).op(3,40,50,get(),ok("a1","w1")).op(3,60,70,get(),ok("a2","w2"))
files['bad/non-monotonic-read--same-client-goes-back']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,100,put("w2","a2",im=E("a1")),ok("a2")).op(5,40,50,get(),ok("a2","w2")).op(5,60,70,get(),ok("a1","w1"))
files['bad/phantom-304--etag-superseded']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,30,put("w2","a2",im=E("a1")),ok("a2")).op(3,40,50,get(inm=E("a1")),nm("a1"))
files['bad/phantom-412--etag-current']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,30,put("w2","a2",im=E("a1")),P)
files['bad/phantom-412--create-on-empty-key']=H().op(1,0,10,put("w1","a1",inm="*"),P)
files['bad/phantom-404--object-exists']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,30,get(),NF).op(3,31,40,get(),ok("a1","w1"))
files['bad/ignored-precondition--if-match-on-missing-key']=H().op(1,0,10,put("w1","a1",im=E("nope")),ok("a1"))
files['bad/ignored-precondition--create-over-existing']=H().op(1,0,10,put("w1","a1"),ok("a1")).op(3,12,14,get(),ok("a1","w1")).op(2,20,30,put("w2","a2",inm="*"),ok("a2"))
files['bad/garbage-read--unknown-write-id']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,30,get(),ok("a1","w999"))
files['bad/resurrection--read-after-delete']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,30,dele(E("a1")),d204()).op(3,40,50,get(),ok("a1","w1"))
files['bad/lost-acknowledged-write--blind-put-vanishes']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,30,get(),ok("a1","w1")).op(3,40,50,put("w3","a3"),ok("a3")).op(2,60,70,get(),ok("a1","w1"))
files['bad/spurious-409--no-concurrent-writer']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,30,put("w2","a2",im=E("a1")),C409)
files['bad/duplicate-etag--different-content']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,30,put("w2","a2"),ok("a1"))
files['bad/non-linearizable--412-needs-unseen-blind-write']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,30,get(),ok("a1","w1")).op(3,15,60,put("w3","a3"),amb()).op(4,40,50,put("w4","a4",im=E("a1")),P).op(5,70,80,get(),ok("a1","w1"))
files['bad/stale-read--after-multipart-complete']=H().op(2,30,40,mpu("w2",0,"m2-1"),ok("m2-1")).op(1,10,20,put("w1","a1"),ok("a1")).op(3,50,60,get(),ok("a1","w1")).op(3,70,80,get(),ok("m2-1","w2"))
files['bad/spurious-409--multipart-with-nothing-during-the-upload']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,50,60,mpu("w2",15,"m2-1",im=E("a1")),C409).op(3,20,30,get(),ok("a1","w1"))
files['bad/spurious-409--only-a-read-overlaps']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,40,get(),ok("a1","w1")).op(3,25,35,put("w3","a3",im=E("a1")),C409)
files['bad/stale-read--copy-of-a-stale-source']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1"),key="s").op(1,20,30,put("w2","a2",im=E("a1")),ok("a2"),key="s").op(4,31,35,get(),ok("a2","w2"),key="s").op(2,40,50,copy("s"),ok("c1"),key="d").op(3,60,70,get(),ok("c1","w1"),key="d")
files['bad/garbage-read--copy-names-a-write-nobody-made']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1"),key="s").op(2,20,30,copy("s"),ok("c1"),key="d").op(3,40,50,get(),ok("c1","w999"),key="d")
files['bad/garbage-read--on-a-key-with-a-copy']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1"),key="s").op(5,0,10,put("w5","a5",inm="*"),ok("a5"),key="d").op(2,20,30,copy("s"),ok("c1"),key="d").op(3,40,50,get(),ok("a9","w888"),key="d")
# A copy writes only after its source existed: here after the blind write of w3, so the read
# of w3 afterwards shows the copy's version lost.
files['bad/lost-acknowledged-write--copy-landed-after-its-source-was-created']=H().op(1,0,10,put("w2","a2",inm="*"),ok("a2"),key="d").op(2,20,60,copy("s"),ok("c1"),key="d").op(3,22,29,put("w3","a3"),ok("a3"),key="d").op(4,30,40,put("w1","a1",inm="*"),ok("a1"),key="s").op(5,70,80,get(),ok("a3","w3"),key="d")
# Overwritten states: the latest write that returned before an op began left a state where the
# op's outcome is illegal, and every write or delete that could leave a legal one had returned
# before that write began. Racing writes that cannot help do not hide it.
files['bad/ignored-precondition--create-after-a-write-despite-racing-blind-writes']=H().op(1,0,10,put("w1","a1"),ok("a1")).op(2,5,40,put("w2","a2"),ok("a2")).op(3,8,9,put("w3","a3"),amb()).op(4,12,13,put("w4","a4"),amb()).op(5,20,30,put("w5","a5",inm="*"),ok("a5"))
files['bad/double-create--after-a-create-despite-racing-blind-writes']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,5,40,put("w2","a2"),ok("a2")).op(3,12,13,put("w3","a3"),amb()).op(5,20,30,put("w5","a5",inm="*"),ok("a5"))
# Non-MD5 ETags: the unanswered write's ETag is unknown, so no ETag is known to be unique; the
# If-Match still names a version a later definite write replaced.
files['bad/ignored-precondition--if-match-on-an-overwritten-version']=H().op(1,0,10,put("w1","0cc175b9c0f1b6a831c399e26977",inm="*"),ok("1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c")).op(2,20,30,put("w2","92eb5ffee6ae2fec3ad71c777531"),ok("2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d")).op(6,31,33,get(),ok("2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d","w2")).op(3,25,45,put("w3","4a8a08f09d37b73795649038408b",im=E("2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d")),P).op(4,40,50,put("w4","8277e0910d750195b448797616e0",im=E("1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c")),ok("3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e")).op(5,60,70,put("w5","e1671797c52e15f763380b45e841"),amb())
files['bad/stale-read--overwritten-version-despite-a-racing-blind-write']=H().op(1,0,10,put("w1","a1",inm="*"),ok("a1")).op(2,20,30,put("w2","a2"),ok("a2")).op(5,31,33,get(),ok("a2","w2")).op(3,25,60,put("w3","a3"),ok("a3")).op(4,35,45,get(),ok("a1","w1"))
# Their near misses: an unanswered delete could fall between; the old version's write was
# still in flight when the overwriting one began.
files['good/create-after-a-write-with-an-unanswered-delete-between']=H().op(1,0,10,put("w1","a1"),ok("a1")).op(2,5,40,put("w2","a2"),ok("a2")).op(3,12,13,dele(),amb()).op(5,20,30,put("w5","a5",inm="*"),ok("a5"))
files['good/if-match-on-a-version-written-concurrently-with-its-overwrite']=H().op(1,0,10,put("w1","0cc175b9c0f1b6a831c399e26977",inm="*"),ok("1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c")).op(2,15,30,put("w2","92eb5ffee6ae2fec3ad71c777531"),ok("2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d")).op(3,18,25,put("w3","4a8a08f09d37b73795649038408b"),ok("5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b")).op(4,40,50,put("w4","8277e0910d750195b448797616e0",im=E("2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d")),ok("3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e")).op(5,60,70,put("w5","e1671797c52e15f763380b45e841"),amb())
files['good/read-of-a-version-written-concurrently-with-its-overwrite']=H().op(1,0,12,put("w0","a0",inm="*"),ok("a0")).op(1,15,35,put("w1","a1"),ok("a1")).op(2,20,30,put("w2","a2"),ok("a2")).op(3,25,60,put("w3","a3"),ok("a3")).op(4,40,45,get(),ok("a1","w1"))
for name,h in files.items():
    path=os.path.join(base,name+'.jsonl')
    os.makedirs(os.path.dirname(path),exist_ok=True)
    with open(path,'w') as f:
        f.write(json.dumps(hdr(name.split('/')[1].replace('--',': ').replace('-',' ')),separators=(',',':'))+'\n')
        for o in h.ops: f.write(json.dumps(o,separators=(',',':'))+'\n')
print(len(files))
