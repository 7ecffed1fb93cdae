// The end of a data-parallel `mlp` step in C, two ways (docs/performance.md, "Contended periods"): the weight
// gradients of the five linear layers for 2 shards of 64 rows, then Adam on all 652 800 weights.
//   mode 0: as VAEKit does it — each thread computes its shard's dYᵀ·X (β = 0) into its own gradient buffers,
//           then both threads run Adam on half of each tensor, adding the two parts;
//   mode 1: the whole-batch alternative — threads take blocks of BLOCK output rows in turn, compute the block's
//           gradient over both shards (β = 0, then β = 1) into a scratch block in cache and run Adam on it there.
// Each iteration first reads the weights once (the forward's packing). Prints the median and fastest iteration.
//
//   gcc -O3 -march=native -fopenmp benchmarks/weight_gradient_adam.c -o /tmp/wga -lopenblas -lm
//   /tmp/wga MODE [ITERATIONS=400] [BLOCK=32]      environment: HUGE=1 (2 MiB pages, MADV_HUGEPAGE),
//                                                  WIN=1 (print the mean of every 200 iterations)
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
void openblas_set_num_threads(int);
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define L 5
static int outs[L]={400,20,20,400,784}, ins[L]={784,400,400,20,400};
static float *W[L],*M[L],*V[L],*G[2][L],*X[2][L],*DY[2][L],*S[2];
static float *rnd(size_t n,float s){float*p; if(getenv("HUGE")){size_t b=((n*4+(1<<21)-1)>>21)<<21; p=aligned_alloc(1<<21,b); madvise(p,b,MADV_HUGEPAGE);} else p=aligned_alloc(64,((n*4+63)/64)*64);for(size_t i=0;i<n;i++)p[i]=s*((float)rand()/RAND_MAX-0.5f);return p;}
static void adam(long n,float*w,const float*g,const float*g2,float*m,float*v){
  const float b1=0.9f,b2=0.999f,lr=1e-3f;
  for(long i=0;i<n;i++){float x=g2?g[i]+g2[i]:g[i];float mm=b1*m[i]+(1-b1)*x,vv=b2*v[i]+(1-b2)*x*x;m[i]=mm;v[i]=vv;w[i]-=lr*mm/(sqrtf(vv)+1e-8f);}}
static void touch_forward(int t){ // the forward/backward's reads of the weights by each shard (packing)
  volatile float s=0; for(int l=0;l<L;l++){long n=(long)outs[l]*ins[l]; for(long i=t;i<n;i+=16*2)s+=W[l][i];}}
int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
int main(int argc,char**argv){
  int mode=atoi(argv[1]); int iters=argc>2?atoi(argv[2]):400; int block=argc>3?atoi(argv[3]):32;
  openblas_set_num_threads(1);
  for(int l=0;l<L;l++){long n=(long)outs[l]*ins[l];W[l]=rnd(n,0.1f);M[l]=rnd(n,0);V[l]=rnd(n,0);memset(M[l],0,n*4);memset(V[l],0,n*4);
    for(int s=0;s<2;s++){G[s][l]=rnd(n,0);X[s][l]=rnd(64L*ins[l],1);DY[s][l]=rnd(64L*outs[l],1e-3f);}}
  for(int t=0;t<2;t++)S[t]=aligned_alloc(64,4L*block*784);
  double *tm=malloc(sizeof(double)*iters);
  #pragma omp parallel num_threads(2)
  {int t=omp_get_thread_num();
  for(int it=0;it<iters;it++){
    #pragma omp barrier
    double st=0; if(t==0)st=now();
    touch_forward(t);
    if(mode==0){ // per-shard gradients (β=0) then Adam over halves
      for(int l=0;l<L;l++) cblas_sgemm(CblasRowMajor,CblasTrans,CblasNoTrans,outs[l],ins[l],64,1,DY[t][l],outs[l],X[t][l],ins[l],0,G[t][l],ins[l]);
      #pragma omp barrier
      for(int l=0;l<L;l++){long n=(long)outs[l]*ins[l];long h=n/2;long a=t?h:0,b=t?n:h;
        adam(b-a,W[l]+a,G[0][l]+a,G[1][l]+a,M[l]+a,V[l]+a);}
    } else { // whole batch: blocks of output rows, both shards, Adam on the block in cache
      #pragma omp barrier
      int k=0;
      for(int l=0;l<L;l++){for(int r=0;r<outs[l];r+=block,k++){ if(k%2!=t)continue; int rows=outs[l]-r<block?outs[l]-r:block;
        for(int s=0;s<2;s++) cblas_sgemm(CblasRowMajor,CblasTrans,CblasNoTrans,rows,ins[l],64,1,DY[s][l]+r,outs[l],X[s][l],ins[l],s?1:0,S[t],ins[l]);
        long off=(long)r*ins[l]; adam((long)rows*ins[l],W[l]+off,S[t],0,M[l]+off,V[l]+off);}}
    }
    #pragma omp barrier
    if(t==0){tm[it]=now()-st; if(getenv("WIN") && it%200==199){double s=0;for(int j=it-199;j<=it;j++)s+=tm[j];printf("%.2f ",s/200*1e3);fflush(stdout);}}
  }}
  qsort(tm,iters,sizeof(double),cmp);
  printf("mode %d block %d: median %.3f ms  fastest %.3f\n",mode,block,tm[iters/2]*1e3,tm[0]*1e3);
  // checksum to compare modes' arithmetic is sane
  double c=0; for(int l=0;l<L;l++){long n=(long)outs[l]*ins[l];for(long i=0;i<n;i+=97)c+=W[l][i];} fprintf(stderr,"checksum %.6f\n",c);
}
